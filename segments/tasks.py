from celery import shared_task
from django.utils import timezone

from helpdesk.jobs import EMAIL_TASK_OPTIONS, send_now
from segments import outreach, services


@shared_task(acks_late=True)
def execute_segment_run_task(run_id: int) -> None:
    services.execute_segment_run(run_id=run_id)


@shared_task
def start_scheduled_segment_runs() -> int:
    return len(services.start_scheduled_runs())


@shared_task
def fail_stalled_segment_runs() -> int:
    """Periodic: fail the runs whose worker died, so the page says so and a new run can start."""
    return len(services.fail_stalled_runs())


@shared_task(**EMAIL_TASK_OPTIONS)
def send_campaign_task(campaign_id: int) -> bool:
    """One batch of a campaign, then the next batch as a new task (progress shows between)."""
    more = outreach.send_campaign_batch(campaign_id=campaign_id)
    if more:
        send_now(send_campaign_task, campaign_id)
    return more


@shared_task
def resume_stalled_campaigns() -> int:
    """Periodic: re-enqueue campaigns whose sending job was lost; duplicates are harmless."""
    ids = outreach.stalled_campaign_ids(now=timezone.now())
    return sum(send_now(send_campaign_task, pk) for pk in ids)
