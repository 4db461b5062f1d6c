"""What the leads' and agents' simple editors share: the form page and the segment list input."""

from django.http import HttpResponse
from django.shortcuts import render


def split_slugs(text: str) -> list[str]:
    return [slug.strip() for slug in text.replace("\n", ",").split(",") if slug.strip()]


def render_form_page(
    request,
    form,
    *,
    title: str,
    back_url: str,
    back_label: str,
    testid: str,
    delete_url: str = "",
) -> HttpResponse:
    """The form alone on a page; a posted form shown again has errors, hence 400."""
    context = {
        "form": form,
        "title": title,
        "back_url": back_url,
        "back_label": back_label,
        "testid": testid,
        "delete_url": delete_url,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "tickets/canned/form_page.html", context, status=status)
