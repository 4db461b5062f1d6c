"""Inbound mail pushed by providers, and the admins' list of mail that did not become tickets."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Length
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from helpdesk.permissions import admin_required, public_view
from tickets import services
from tickets.models import InboundEmail, Mailbox

UNPROCESSED_STATES = (
    InboundEmail.State.FAILED,
    InboundEmail.State.IGNORED,
    InboundEmail.State.RECEIVED,
)
PAGE_SIZE = 50


@csrf_exempt
@require_POST
@public_view("mail providers push raw messages; authenticated by the mailbox token")
def inbound_email(request, slug: str):
    mailbox = Mailbox.objects.filter(slug=slug, active=True).first()
    if mailbox is None:
        return JsonResponse({"error": "No such mailbox."}, status=404)
    if not constant_time_compare(_presented_token(request), mailbox.inbound_token):
        return JsonResponse({"error": "Missing or wrong mailbox token."}, status=401)
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    # Read the stream directly: request.body would apply the form-upload size limit instead.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return JsonResponse({"error": f"Messages are limited to {limit} bytes."}, status=413)
    if not raw.strip():
        return JsonResponse({"error": "The body must be a raw RFC 822 message."}, status=400)
    inbound, created = services.accept_inbound_email(mailbox=mailbox, raw=raw)
    status = "accepted" if created else "duplicate"
    return JsonResponse({"status": status, "id": inbound.pk}, status=202)


def _presented_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-Inbound-Token", "")


@admin_required
@require_GET
def failed_emails(request):
    state = request.GET.get("state", "")
    states = [state] if state in UNPROCESSED_STATES else list(UNPROCESSED_STATES)
    emails = (
        InboundEmail.objects.filter(state__in=states)
        .select_related("mailbox")
        .defer("raw")
        .annotate(size=Length("raw"))
        .order_by("-received_at", "-id")
    )
    page = Paginator(emails, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/failed_emails.html",
        {"page": page, "state": state, "states": UNPROCESSED_STATES},
    )


@admin_required
@require_POST
def reprocess_email(request, inbound_id: int):
    inbound = get_object_or_404(InboundEmail.objects.defer("raw"), pk=inbound_id)
    try:
        result = services.reprocess_inbound_email(inbound=inbound, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        ticket = f" (ticket #{result.ticket.number})" if result.ticket else ""
        messages.success(request, f"Re-processed: {result.outcome.value}{ticket}.")
    return redirect("tickets:failed_emails")
