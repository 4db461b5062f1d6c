from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from helpdesk.jobs import EMAIL_TASK_OPTIONS, send_now
from surveys import selectors, services

SEND_BATCH = 500
# The sweep only recovers follow-ups lost recently; an old bad rating (an imported one, say)
# must not reopen a ticket or email a lead today.
BAD_RATING_SWEEP_WINDOW = timedelta(days=1)


@shared_task
def invite_solved_tickets() -> dict:
    """Periodic: invite solved tickets, then (re)enqueue the sends and bad-rating follow-ups
    whose job was lost or is still waiting."""
    created = services.invite_solved_tickets()
    return {
        "invited": created,
        "enqueued": _enqueue_unsent(),
        "bad_ratings": _enqueue_bad_rating_follow_ups(),
    }


@shared_task
def invite_nps() -> dict:
    created = services.invite_nps()
    return {"invited": created, "enqueued": _enqueue_unsent()}


def _enqueue_unsent() -> int:
    ids = selectors.unsent_invitation_ids(now=timezone.now(), limit=SEND_BATCH)
    return sum(send_now(send_invitation_task, pk) for pk in ids)


def _enqueue_bad_rating_follow_ups() -> int:
    if not settings.SURVEY_BAD_RATING_ACTIONS:
        return 0
    since = timezone.now() - BAD_RATING_SWEEP_WINDOW
    ids = selectors.unhandled_bad_rating_ids(since=since, limit=SEND_BATCH)
    return sum(send_now(handle_bad_rating_task, pk) for pk in ids)


@shared_task(**EMAIL_TASK_OPTIONS)
def send_invitation_task(invitation_id: int) -> bool:
    return services.send_invitation(invitation_id=invitation_id)


@shared_task(**EMAIL_TASK_OPTIONS)
def handle_bad_rating_task(response_id: int) -> bool:
    return services.handle_bad_rating(response_id=response_id)
