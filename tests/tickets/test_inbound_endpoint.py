import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import MailboxFactory
from tests.tickets.emails import raw_email
from tickets.models import InboundEmail, Ticket
from tickets.views.email import inbound_email

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def mailbox(db):
    return MailboxFactory(slug="support", inbound_token=TOKEN)


@pytest.fixture
def provider():
    """A mail provider: no session, no CSRF token."""
    return Client(enforce_csrf_checks=True)


def push(provider, raw: bytes, *, slug: str = "support", **headers):
    url = reverse("tickets:inbound_email", args=[slug])
    return provider.post(url, data=raw, content_type="message/rfc822", headers=headers)


def test_a_pushed_message_is_stored_in_the_request_and_opens_a_ticket_after_commit(
    mailbox, provider, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = push(provider, raw_email(), Authorization=f"Bearer {TOKEN}")

    # then: the raw bytes are stored, the processing waits for the worker
    inbound = InboundEmail.objects.get()
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "id": inbound.pk}
    assert inbound.state == InboundEmail.State.RECEIVED
    assert not Ticket.objects.exists()
    assert len(callbacks) == 1

    # when: the enqueued job runs
    callbacks[0]()

    # then
    ticket = Ticket.objects.get()
    inbound.refresh_from_db()
    assert inbound.state == InboundEmail.State.PROCESSED
    assert inbound.message.ticket == ticket
    assert ticket.mailbox == mailbox


def test_the_token_header_works_too_and_a_second_push_is_a_duplicate_not_enqueued_again(
    mailbox, provider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = push(provider, raw_email(), **{"X-Inbound-Token": TOKEN})

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = push(provider, raw_email(), **{"X-Inbound-Token": TOKEN})

    assert response.status_code == 202
    assert response.json() == {"status": "duplicate", "id": first.json()["id"]}
    assert callbacks == []
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-Inbound-Token": "wrong"}, {"Authorization": TOKEN}],
    ids=["none", "wrong-bearer", "wrong-header", "no-bearer-scheme"],
)
def test_a_missing_or_wrong_token_is_401_and_nothing_is_stored(mailbox, provider, headers):
    response = push(provider, raw_email(), **headers)

    assert response.status_code == 401
    assert InboundEmail.objects.count() == 0


def test_an_unknown_or_inactive_mailbox_is_404(mailbox, provider):
    MailboxFactory(slug="old", inbound_token=TOKEN, active=False)

    unknown = push(provider, raw_email(), slug="nope", Authorization=f"Bearer {TOKEN}")
    inactive = push(provider, raw_email(), slug="old", Authorization=f"Bearer {TOKEN}")

    assert (unknown.status_code, inactive.status_code) == (404, 404)


def test_a_message_over_the_size_limit_is_413(mailbox, provider, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 1000

    response = push(provider, raw_email(body="x" * 2000), Authorization=f"Bearer {TOKEN}")

    assert response.status_code == 413
    assert InboundEmail.objects.count() == 0


def test_a_message_above_djangos_form_upload_limit_is_still_accepted(mailbox, provider, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = push(provider, raw_email(body="x" * 5000), Authorization=f"Bearer {TOKEN}")

    assert response.status_code == 202


def test_an_empty_body_is_400(mailbox, provider):
    response = push(provider, b"", Authorization=f"Bearer {TOKEN}")

    assert response.status_code == 400


def test_a_hostile_message_is_accepted_and_kept_raw_never_a_server_error(
    mailbox, provider, django_capture_on_commit_callbacks
):
    raw = b"\xff\xfe\x00garbage without headers" * 100

    with django_capture_on_commit_callbacks(execute=True):
        response = push(provider, raw, Authorization=f"Bearer {TOKEN}")

    inbound = InboundEmail.objects.get()
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "id": inbound.pk}
    assert bytes(inbound.raw) == raw
    assert inbound.state == InboundEmail.State.FAILED
    assert not Ticket.objects.exists()


def test_only_post_is_allowed(mailbox, provider):
    response = provider.get(reverse("tickets:inbound_email", args=["support"]))

    assert response.status_code == 405


def test_the_endpoint_is_marked_public_with_its_reason():
    assert "mailbox token" in inbound_email.public_reason
