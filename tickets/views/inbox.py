from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from helpdesk.permissions import agent_required
from tickets import selectors, services
from tickets.forms import BulkActionForm, InboxFilterForm, SavedViewForm

RESULTS_TARGET = "inbox-results"


def _render_inbox(request, data, *, bulk_form=None, notice="", status=200):
    choices = selectors.inbox_choices()
    form = InboxFilterForm(data, choices=choices)
    page = None
    if form.is_valid():
        page = selectors.inbox_page(
            user=request.user, filters=form.cleaned_data, page=form.cleaned_data["page"] or 1
        )
    else:
        status = 400
    context = {
        "form": form,
        "page": page,
        "choices": choices,
        "bulk_form": bulk_form or BulkActionForm(None, agents=choices.agents),
        "notice": notice,
        "saved_views": selectors.saved_views_of(request.user),
        "saved_view_form": SavedViewForm(),
    }
    partial = request.htmx and request.htmx.target == RESULTS_TARGET
    template = "tickets/partials/inbox_results.html" if partial else "tickets/inbox.html"
    return render(request, template, context, status=status)


@agent_required
@require_GET
def inbox(request):
    return _render_inbox(request, request.GET)


@agent_required
@require_POST
def bulk_action(request):
    bulk_form = BulkActionForm(request.POST, agents=selectors.inbox_choices().agents)
    if not bulk_form.is_valid():
        return _render_inbox(request, request.POST, bulk_form=bulk_form, status=400)
    selected = bulk_form.cleaned_data["ticket"]
    count = services.bulk_update_tickets(
        ticket_ids=selectors.visible_ticket_ids(request.user, selected),
        actor=request.user,
        **bulk_form.service_kwargs(),
    )
    notice = _bulk_notice(updated=count, missing=len(selected) - count)
    if not request.htmx:
        messages.success(request, notice)
        return redirect("tickets:inbox")
    return _render_inbox(request, request.POST, notice=notice)


def _bulk_notice(*, updated: int, missing: int) -> str:
    """``missing``: selected tickets that no longer exist or that the user may not see (the
    two are not told apart)."""
    notice = f"Updated {updated} ticket{'s' if updated != 1 else ''}."
    if missing:
        notice += f" {missing} selected ticket{'s were' if missing != 1 else ' was'} not found."
    return notice


def _render_saved_views(request, form, status=200):
    context = {"saved_views": selectors.saved_views_of(request.user), "saved_view_form": form}
    return render(request, "tickets/partials/saved_views.html", context, status=status)


@agent_required
@require_POST
def save_view(request):
    form = SavedViewForm(request.POST)
    filters = InboxFilterForm(request.POST, choices=selectors.inbox_choices())
    if not (form.is_valid() and filters.is_valid()):
        if not filters.is_valid():
            form.add_error(None, "The current filters are not valid; fix them first.")
        return _render_saved_views(request, form, status=400)
    view = services.save_view(
        owner=request.user, name=form.cleaned_data["name"], query=filters.query_string()
    )
    if not request.htmx:
        return redirect(f"{reverse('tickets:inbox')}?{view.query}")
    return _render_saved_views(request, SavedViewForm())


@agent_required
@require_POST
def delete_view(request, view_id: int):
    services.delete_view(owner=request.user, view_id=view_id)
    if not request.htmx:
        return redirect("tickets:inbox")
    return _render_saved_views(request, SavedViewForm())
