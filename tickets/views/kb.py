"""Knowledge base: the leads' editor and the public help centre."""

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.permissions import lead_required, public_view
from tickets.forms import service_errors_on
from tickets.models import Article
from tickets.services.kb import delete_article, render_markdown, save_article, search_articles
from tickets.views.editing import render_form_page, split_slugs

PUBLIC_RESULTS = 50


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=200, required=False, help_text="Web address; made from the title when empty"
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 16}), help_text="Markdown")
    category = forms.CharField(max_length=100, required=False)
    segments = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Segments it suits, as segmentation/segment, comma-separated",
    )
    published = forms.BooleanField(required=False, help_text="Visible to customers")

    @classmethod
    def initial_for(cls, article: Article) -> dict:
        return {
            "title": article.title,
            "slug": article.slug,
            "body": article.body,
            "category": article.category,
            "segments": ", ".join(article.segment_slugs),
            "published": article.published,
        }


@lead_required
@require_GET
def article_list(request):
    articles = Article.objects.defer("body")
    query = request.GET.get("q", "").strip()[:200]
    context = {"articles": list(search_articles(articles, query)), "query": query}
    return render(request, "tickets/kb/list.html", context)


@lead_required
@require_http_methods(["GET", "POST"])
def article_edit(request, article_id: int | None = None):
    article = get_object_or_404(Article, pk=article_id) if article_id else None
    initial = ArticleForm.initial_for(article) if article else None
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with service_errors_on(form):
            save_article(
                article=article,
                title=data["title"],
                slug=data["slug"],
                body=data["body"],
                category=data["category"],
                published=data["published"],
                segment_slugs=split_slugs(data["segments"]),
                actor=request.user,
            )
            return redirect("tickets:articles")
    return render_form_page(
        request,
        form,
        title=f"Edit “{article.title}”" if article else "New article",
        back_url=reverse("tickets:articles"),
        back_label="Knowledge base",
        testid="article-form",
        delete_url=reverse("tickets:article_delete", args=[article.pk]) if article else "",
    )


@lead_required
@require_POST
def article_delete(request, article_id: int):
    delete_article(article=get_object_or_404(Article, pk=article_id), actor=request.user)
    return redirect("tickets:articles")


@public_view("customers read published help articles without logging in")
@require_GET
def help_centre(request):
    query = request.GET.get("q", "").strip()[:200]
    articles = Article.objects.filter(published=True).defer("body")
    articles = search_articles(articles, query)[:PUBLIC_RESULTS]
    return render(request, "kb/index.html", {"articles": list(articles), "query": query})


@public_view("customers read published help articles without logging in")
@require_GET
def help_article(request, slug: str):
    article = Article.objects.filter(published=True, slug=slug).first()
    if article is None:
        raise Http404("No such article.")
    context = {"article": article, "body_html": render_markdown(article.body)}
    return render(request, "kb/article.html", context)
