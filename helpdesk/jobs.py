"""Enqueue Celery work after commit without letting a missing broker fail the request.

Every job enqueued here has a periodic sweeper that finds the unfinished work from the
database state, so a message lost while the broker was down is picked up later.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# Task options for jobs that send email: an unreachable or refusing SMTP server is retried with
# backoff for about an hour (smtplib.SMTPException is an OSError).
EMAIL_TASK_OPTIONS = {
    "acks_late": True,
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


def enqueue_on_commit(task, *args) -> None:
    transaction.on_commit(lambda: send_now(task, *args))


def send_now(task, *args) -> bool:
    try:
        task.delay(*args)
    except Exception:  # any broker failure: the sweeper retries later
        logger.warning("could not enqueue %s%r; left for the sweeper", task.name, args)
        return False
    return True


def heartbeat_cutoff() -> datetime:
    """A running job whose last progress is older than this lost its worker."""
    return timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)


def stopped_responding(percent: int) -> str:
    """The reason a job's page gives once the sweeper marked it failed."""
    return f"The worker stopped responding at {percent} % — start it again."
