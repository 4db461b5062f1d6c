from datetime import timedelta

from django.utils import timezone

from tests.factories import MailboxFactory
from tests.tickets.emails import raw_email
from tickets import services, tasks
from tickets.models import InboundEmail, Ticket


def test_the_sweep_processes_inbound_mail_left_received_past_the_cutoff(db):
    # given: two stored messages whose jobs were lost, one of them too recent to sweep
    mailbox = MailboxFactory()
    stale, _ = services.receive_raw_email(mailbox=mailbox, raw=raw_email(message_id="<old@x>"))
    fresh, _ = services.receive_raw_email(mailbox=mailbox, raw=raw_email(message_id="<new@x>"))
    long_ago = timezone.now() - timedelta(seconds=tasks.SWEEP_AFTER_SECONDS + 1)
    InboundEmail.objects.filter(pk=stale.pk).update(received_at=long_ago)

    # when
    swept = tasks.sweep_unfinished_work()

    # then: the stale one became a ticket, the recent one waits for its own job
    assert swept["process"] == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.state == InboundEmail.State.PROCESSED
    assert fresh.state == InboundEmail.State.RECEIVED
    assert Ticket.objects.get() == stale.message.ticket
    assert tasks.sweep_unfinished_work()["process"] == 0


def test_processing_a_message_twice_makes_one_ticket_message(db):
    inbound, created = services.receive_raw_email(mailbox=MailboxFactory(), raw=raw_email())

    first = tasks.process_inbound_email_task(inbound.pk)
    again = tasks.process_inbound_email_task(inbound.pk)

    assert created
    assert (first, again) == ("created", "duplicate")
    assert Ticket.objects.get().messages.count() == 1
    inbound.refresh_from_db()
    assert inbound.state == InboundEmail.State.PROCESSED
