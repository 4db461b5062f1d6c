from django.core import mail

from tickets import services
from tickets.models import Message, Ticket


def test_create_ticket_routes_to_mailbox_team_and_reply_is_emailed(
    db, agent, django_capture_on_commit_callbacks
):
    # given
    from tests.factories import CustomerFactory, MailboxFactory, TeamFactory

    team = TeamFactory()
    mailbox = MailboxFactory(team=None)
    mailbox.team = team
    mailbox.save()
    customer = CustomerFactory(email="ann@example.com")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.create_ticket(
            customer=customer, subject="Broken", body_text="It broke", mailbox=mailbox
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_to_ticket(ticket=ticket, author=agent, body_text="On it")

    # then
    ticket.refresh_from_db()
    assert ticket.team == team
    assert ticket.routed_at is not None
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.first_response_at is not None
    reply = ticket.messages.get(kind=Message.Kind.OUTBOUND)
    assert reply.delivery_status == Message.Delivery.SENT
    assert len(mail.outbox) == 1
    assert f"[#{ticket.number}]" in mail.outbox[0].subject
