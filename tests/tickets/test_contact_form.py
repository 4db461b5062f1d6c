import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import MailboxFactory, TeamFactory
from tests.tickets.emails import reply_to
from tickets import services
from tickets.models import Message, Ticket
from tickets.services import IngestOutcome
from tickets.views.contact import contact

# The rate limits count in the cache.
pytestmark = pytest.mark.usefixtures("empty_cache")

FORM = {
    "name": "Ann Customer",
    "email": "ann@example.com",
    "subject": "Cannot log in",
    "message": "The login page says my password is wrong.",
}


@pytest.fixture
def mailbox(db):
    return MailboxFactory(address="support@helpdesk.example.com", team=TeamFactory())


def submit(client, ip: str = "203.0.113.5", **changes):
    return client.post(reverse("tickets:contact"), {**FORM, **changes}, REMOTE_ADDR=ip)


def test_the_contact_page_is_public_and_carries_a_csrf_token(client, db):
    response = client.get(reverse("tickets:contact"))

    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content
    assert "contact form" in contact.public_reason


def test_a_submission_opens_a_web_ticket_and_emails_a_confirmation(
    client, mailbox, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client)

    # then
    assert response.status_code == 302
    assert response.url == reverse("tickets:contact_sent")
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.subject, ticket.mailbox, ticket.team) == (
        Ticket.Channel.WEB,
        "Cannot log in",
        mailbox,
        mailbox.team,
    )
    assert (ticket.customer.email, ticket.customer.name) == ("ann@example.com", "Ann Customer")
    [confirmation] = mail.outbox
    assert confirmation.to == ["ann@example.com"]
    assert confirmation.from_email == "support@helpdesk.example.com"
    assert f"[#{ticket.number}]" in confirmation.subject
    assert f"ticket #{ticket.number}" in confirmation.body
    assert confirmation.message()["Auto-Submitted"] == "auto-replied"
    assert confirmation.message()["In-Reply-To"] == ticket.messages.first().message_id


def test_the_customers_reply_to_the_confirmation_threads_into_the_ticket(
    client, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(client)
    ticket = Ticket.objects.get()

    result = services.ingest_email(
        mailbox=mailbox,
        raw=reply_to(mail.outbox[0].message().as_bytes(), message_id="<re@mail.example.com>"),
    )

    assert (result.outcome, result.ticket) == (IngestOutcome.THREADED, ticket)
    assert ticket.messages.filter(kind=Message.Kind.INBOUND).count() == 2


def test_an_invalid_submission_shows_the_errors_and_opens_nothing(client, db):
    response = submit(client, email="not-an-address", subject="")

    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"email", "subject"}
    assert Ticket.objects.count() == 0


def test_the_form_requires_the_csrf_token(db):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(reverse("tickets:contact"), FORM)

    assert response.status_code == 403
    assert Ticket.objects.count() == 0


def test_more_than_five_an_hour_from_one_ip_are_refused_with_a_clear_message(client, mailbox):
    for n in range(5):
        assert submit(client, email=f"person{n}@example.com").status_code == 302

    refused = submit(client, email="sixth@example.com")

    assert refused.status_code == 429
    assert b"wait an hour" in refused.content
    assert Ticket.objects.count() == 5


def test_more_than_five_an_hour_for_one_address_are_refused_from_any_ip(client, mailbox):
    for n in range(5):
        assert submit(client, ip=f"198.51.100.{n}").status_code == 302

    refused = submit(client, ip="198.51.100.99", email="ANN@example.com")

    assert refused.status_code == 429
    assert Ticket.objects.count() == 5


def test_the_limit_counts_per_ip_and_address_separately(client, mailbox):
    for n in range(5):
        submit(client, ip="203.0.113.1", email=f"a{n}@example.com")

    allowed = submit(client, ip="203.0.113.2", email="b@example.com")

    assert allowed.status_code == 302
