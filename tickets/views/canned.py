"""Canned replies: the list and editor, and the reply box's suggestions and insertions."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.permissions import agent_required
from helpdesk.roles import Role, has_role
from tickets.extensions import badges_for_customers
from tickets.forms import service_errors_on
from tickets.models import Article, CannedReply, Ticket
from tickets.selectors import visible_tickets
from tickets.services.canned import (
    canned_replies_visible_to,
    delete_canned_reply,
    placeholder_list,
    save_canned_reply,
    segment_slugs_of,
    suggested_canned_replies,
    use_canned_reply,
)
from tickets.services.kb import search_articles, suggested_articles
from tickets.views.editing import render_form_page, split_slugs

MAX_SUGGESTIONS = 8


class CannedReplyForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Placeholders: " + placeholder_list(),
    )
    folder = forms.CharField(max_length=100, required=False)
    segments = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Segments it suits, as segmentation/segment, comma-separated",
    )
    shared = forms.BooleanField(required=False, help_text="Shared with every agent")

    def __init__(self, data=None, *, can_share: bool, initial=None):
        super().__init__(data, initial=initial)
        if not can_share:
            del self.fields["shared"]

    @classmethod
    def initial_for(cls, reply: CannedReply) -> dict:
        return {
            "title": reply.title,
            "body": reply.body,
            "folder": reply.folder,
            "segments": ", ".join(reply.segment_slugs),
            "shared": reply.owner_id is None,
        }


def _editable_reply_or_404(user, reply_id: int) -> CannedReply:
    """Shared replies are the leads' to edit; personal ones only their owner's."""
    reply = get_object_or_404(canned_replies_visible_to(user), pk=reply_id)
    if reply.owner_id is None and not has_role(user, Role.LEAD):
        raise PermissionDenied
    return reply


@agent_required
@require_GET
def canned_list(request):
    replies = canned_replies_visible_to(request.user).select_related("owner")
    query = request.GET.get("q", "").strip()[:200]
    if query:
        replies = replies.filter(Q(title__icontains=query) | Q(body__icontains=query))
    context = {
        "replies": list(replies.order_by("folder", "title")),
        "query": query,
        "is_lead": has_role(request.user, Role.LEAD),
    }
    return render(request, "tickets/canned/list.html", context)


@agent_required
@require_http_methods(["GET", "POST"])
def canned_edit(request, reply_id: int | None = None):
    reply = _editable_reply_or_404(request.user, reply_id) if reply_id else None
    can_share = has_role(request.user, Role.LEAD)
    initial = CannedReplyForm.initial_for(reply) if reply else {"shared": can_share}
    form = CannedReplyForm(request.POST or None, can_share=can_share, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with service_errors_on(form):
            save_canned_reply(
                canned_reply=reply,
                title=data["title"],
                body=data["body"],
                folder=data["folder"],
                owner=None if data.get("shared") else request.user,
                segment_slugs=split_slugs(data["segments"]),
                actor=request.user,
            )
            return redirect("tickets:canned_replies")
    return render_form_page(
        request,
        form,
        title=f"Edit “{reply.title}”" if reply else "New canned reply",
        back_url=reverse("tickets:canned_replies"),
        back_label="Canned replies",
        testid="canned-form",
        delete_url=reverse("tickets:canned_delete", args=[reply.pk]) if reply else "",
    )


@agent_required
@require_POST
def canned_delete(request, reply_id: int):
    delete_canned_reply(
        canned_reply=_editable_reply_or_404(request.user, reply_id), actor=request.user
    )
    return redirect("tickets:canned_replies")


def _ticket_or_404(request, ticket_id: int) -> Ticket:
    ticket = visible_tickets(request.user).select_related("customer", "assignee")
    ticket = ticket.defer("search_document").filter(pk=ticket_id).first()
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


@agent_required
@require_GET
def reply_suggestions(request, ticket_id: int):
    """Canned replies and articles for the reply box: suggested, or found by ``q``."""
    ticket = _ticket_or_404(request, ticket_id)
    query = request.GET.get("q", "").strip()[:200]
    slugs = segment_slugs_of(badges_for_customers([ticket.customer_id])[ticket.customer_id])
    replies = suggested_canned_replies(
        user=request.user, segment_slugs=slugs, query=query, limit=MAX_SUGGESTIONS
    )
    if query:
        published = Article.objects.filter(published=True).defer("body")
        articles = list(search_articles(published, query)[:MAX_SUGGESTIONS])
    else:
        articles = suggested_articles(ticket=ticket, segment_slugs=slugs, limit=MAX_SUGGESTIONS)
    context = {"ticket": ticket, "replies": replies, "articles": articles, "query": query}
    return render(request, "tickets/canned/suggestions.html", context)


def _reply_box(request, ticket: Ticket, addition: str):
    """The reply textarea with ``addition`` appended to what the agent had typed."""
    typed = request.POST.get("body_text", "").rstrip()
    text = f"{typed}\n\n{addition}" if typed else addition
    return render(request, "tickets/canned/reply_textarea.html", {"ticket": ticket, "text": text})


@agent_required
@require_POST
def insert_canned_reply(request, ticket_id: int, reply_id: int):
    ticket = _ticket_or_404(request, ticket_id)
    reply = get_object_or_404(canned_replies_visible_to(request.user), pk=reply_id)
    text = use_canned_reply(canned_reply=reply, ticket=ticket, agent=request.user)
    return _reply_box(request, ticket, text)


@agent_required
@require_POST
def insert_article_link(request, ticket_id: int, article_id: int):
    ticket = _ticket_or_404(request, ticket_id)
    article = get_object_or_404(Article.objects.filter(published=True), pk=article_id)
    url = request.build_absolute_uri(reverse("tickets:help_article", args=[article.slug]))
    return _reply_box(request, ticket, f"{article.title}: {url}")
