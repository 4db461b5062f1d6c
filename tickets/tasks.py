import imaplib
from collections import Counter

from celery import shared_task
from django.utils import timezone

from helpdesk.jobs import EMAIL_TASK_OPTIONS, heartbeat_cutoff, send_now
from tickets import services
from tickets.models import ImportJob, InboundEmail, Mailbox, Message, Ticket

SWEEP_AFTER_SECONDS = 60
SWEEP_BATCH = 500


@shared_task(acks_late=True)
def route_ticket_task(ticket_id: int) -> None:
    services.route_ticket(ticket_id=ticket_id)


@shared_task(acks_late=True)
def route_reply_task(message_id: int) -> None:
    services.route_reply(message_id=message_id)


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> None:
    services.run_import_job(job_id=job_id)


@shared_task(acks_late=True)
def process_inbound_email_task(inbound_email_id: int) -> str:
    return services.process_inbound_email(inbound_email_id=inbound_email_id).outcome.value


@shared_task(bind=True, **EMAIL_TASK_OPTIONS)
def deliver_message_task(self, message_id: int) -> None:
    services.deliver_message(
        message_id=message_id, final_attempt=self.request.retries >= self.max_retries
    )


@shared_task
def poll_mailboxes() -> int:
    """Start one polling task per active mailbox that has IMAP settings."""
    mailboxes = Mailbox.objects.filter(active=True).exclude(imap_host="")
    return sum(send_now(poll_mailbox, pk) for pk in mailboxes.values_list("pk", flat=True))


@shared_task(
    acks_late=True,
    autoretry_for=(imaplib.IMAP4.error, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def poll_mailbox(mailbox_id: int) -> dict:
    mailbox = Mailbox.objects.filter(pk=mailbox_id, active=True).first()
    if mailbox is None:
        return {}
    return Counter(result.outcome.value for result in services.poll_mailbox(mailbox=mailbox))


@shared_task
def flag_sla_breaches() -> dict:
    """Periodic: flag missed SLA targets and tell the team leads (each breach once)."""
    flagged = services.flag_sla_breaches()
    return {kind: len(ids) for kind, ids in flagged.items()}


@shared_task
def sweep_unfinished_work() -> dict:
    """Re-enqueue work whose job was lost (for example while the broker was down), and fail the
    imports whose worker died. A job sent twice is harmless: each claims its row first."""
    cutoff = timezone.now() - timezone.timedelta(seconds=SWEEP_AFTER_SECONDS)
    unprocessed = InboundEmail.objects.filter(
        state=InboundEmail.State.RECEIVED, received_at__lt=cutoff
    )
    unrouted = Ticket.objects.filter(routed_at__isnull=True, created_at__lt=cutoff)
    undelivered = Message.objects.filter(
        delivery_status=Message.Delivery.PENDING, created_at__lt=cutoff
    )
    # An import may wait behind a long one: re-sent only when queued as long as a job may run.
    unstarted_imports = ImportJob.objects.filter(
        state=ImportJob.State.QUEUED, created_at__lt=heartbeat_cutoff()
    )
    return {
        "process": _send_each(process_inbound_email_task, unprocessed),
        "route": _send_each(route_ticket_task, unrouted),
        "deliver": _send_each(deliver_message_task, undelivered),
        "import": _send_each(run_import_job, unstarted_imports),
        "fail_stalled_imports": len(services.fail_stalled_import_jobs()),
    }


def _send_each(task, rows) -> int:
    pks = list(rows.values_list("pk", flat=True)[:SWEEP_BATCH])
    for pk in pks:
        send_now(task, pk)
    return len(pks)
