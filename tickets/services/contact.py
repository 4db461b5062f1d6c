"""The web form channel: a customer without a login opens a ticket from the contact page."""

from email.utils import make_msgid

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from tickets.models import Mailbox, Ticket
from tickets.services.customers import find_or_create_customer
from tickets.services.email import queue_automatic_reply
from tickets.services.tickets import create_ticket


def contact_mailbox() -> Mailbox | None:
    """The mailbox web tickets answer from: CONTACT_MAILBOX by slug, else the first active."""
    active = Mailbox.objects.filter(active=True).select_related("team")
    if settings.CONTACT_MAILBOX:
        return active.filter(slug=settings.CONTACT_MAILBOX).first()
    return active.order_by("pk").first()


@transaction.atomic
def submit_contact_form(*, email: str, name: str, subject: str, body: str) -> Ticket:
    """Open a web ticket and queue the confirmation email.

    The submission gets a Message-ID that the confirmation answers, so the customer's reply
    threads by its headers, and by the ``[#N]`` token in the subject as well.
    """
    customer, _ = find_or_create_customer(email=email, name=name)
    ticket = create_ticket(
        customer=customer,
        subject=subject,
        body_text=body,
        channel=Ticket.Channel.WEB,
        mailbox=contact_mailbox(),
        message_id=make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN),
    )
    confirmation = render_to_string(
        "tickets/email/contact_confirmation.txt", {"ticket": ticket, "customer": customer}
    )
    queue_automatic_reply(ticket=ticket, body_text=confirmation)
    return ticket
