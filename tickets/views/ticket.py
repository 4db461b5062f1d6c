from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from helpdesk.not_found import missing_as_404
from helpdesk.permissions import agent_required
from tickets import presence, selectors, services
from tickets.forms import NoteForm, ReplyForm, TicketPropertiesForm, service_errors_on
from tickets.models import Ticket


def _properties_form(ticket, data=None, choices=None):
    choices = choices or selectors.inbox_choices()
    return TicketPropertiesForm(data, ticket=ticket, agents=choices.agents, teams=choices.teams)


def _render_ticket(request, ticket_id, *, reply_form=None, note_form=None, status=200):
    with missing_as_404(Ticket, "No such ticket."):
        detail = selectors.ticket_detail(user=request.user, ticket_id=ticket_id)
    choices = selectors.inbox_choices()
    context = {
        "detail": detail,
        "ticket": detail.ticket,
        "choices": choices,
        "properties_form": _properties_form(detail.ticket, choices=choices),
        "reply_form": reply_form or ReplyForm(),
        "note_form": note_form or NoteForm(),
        "composer": "note" if note_form is not None else "reply",
    }
    return render(request, "tickets/ticket_detail.html", context, status=status)


def _ticket_or_404(request, ticket_id: int) -> Ticket:
    with missing_as_404(Ticket, "No such ticket."):
        return selectors.ticket_sidebar_state(user=request.user, ticket_id=ticket_id)


def _to_inbox_out_of_sight(request, ticket: Ticket):
    """The agent's own change (a private team, or unassigning themselves) hid the ticket."""
    messages.info(
        request,
        f"You can no longer see ticket #{ticket.pk}: it belongs to a private team you are not in.",
    )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("tickets:inbox"))
    return redirect("tickets:inbox")


@agent_required
@require_GET
def ticket_detail(request, ticket_id: int):
    return _render_ticket(request, ticket_id)


@agent_required
@require_POST
def update_properties(request, ticket_id: int):
    ticket = _ticket_or_404(request, ticket_id)
    choices = selectors.inbox_choices()
    form = _properties_form(ticket, request.POST, choices=choices)
    status = 400
    if form.is_valid():
        with service_errors_on(form):
            ticket = services.update_ticket(
                ticket=ticket, actor=request.user, **form.service_kwargs()
            )
            if selectors.ticket_hidden_from(request.user, ticket.pk):
                return _to_inbox_out_of_sight(request, ticket)
            if not request.htmx:
                return redirect("tickets:ticket", ticket_id=ticket.pk)
            ticket = _ticket_or_404(request, ticket_id)
            form, status = _properties_form(ticket, choices=choices), 200
    context = {
        "ticket": ticket,
        "properties_form": form,
        "choices": choices,
        "history": selectors.ticket_history(ticket=ticket),
        "sla": selectors.ticket_sla(ticket),
        "oob": True,
    }
    return render(request, "tickets/partials/ticket_properties.html", context, status=status)


def _post_message(request, ticket_id: int, *, form, composer: str, post):
    """Validate ``form`` and call ``post``; on errors show the page again with the composer."""
    ticket = _ticket_or_404(request, ticket_id)
    if form.is_valid():
        with service_errors_on(form):
            post(ticket, form.cleaned_data)
            return redirect("tickets:ticket", ticket_id=ticket.pk)
    return _render_ticket(request, ticket_id, status=400, **{f"{composer}_form": form})


@agent_required
@require_POST
def reply(request, ticket_id: int):
    return _post_message(
        request,
        ticket_id,
        form=ReplyForm(request.POST),
        composer="reply",
        post=lambda ticket, data: services.reply_to_ticket(
            ticket=ticket,
            author=request.user,
            body_text=data["body_text"],
            status=data["status"] or None,
        ),
    )


@agent_required
@require_POST
def add_note(request, ticket_id: int):
    return _post_message(
        request,
        ticket_id,
        form=NoteForm(request.POST),
        composer="note",
        post=lambda ticket, data: services.add_internal_note(
            ticket=ticket, author=request.user, body_text=data["body_text"]
        ),
    )


def _404_if_hidden(request, ticket_id: int) -> None:
    if selectors.ticket_hidden_from(request.user, ticket_id):
        raise Http404("No such ticket.")


@agent_required
@require_GET
def viewers(request, ticket_id: int):
    _404_if_hidden(request, ticket_id)
    others = presence.mark_viewing(
        ticket_id=ticket_id, user_id=request.user.pk, name=request.user.display_name
    )
    return render(request, "tickets/partials/viewers.html", {"viewers": others})


@agent_required
@require_POST
def stop_viewing(request, ticket_id: int):
    _404_if_hidden(request, ticket_id)
    presence.stop_viewing(ticket_id=ticket_id, user_id=request.user.pk)
    return HttpResponse(status=204)
