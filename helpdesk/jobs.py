"""Enqueue Celery work after commit without letting a missing broker fail the request.

Every job enqueued here has a periodic sweeper that finds the unfinished work from the
database state, so a message lost while the broker was down is picked up later.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    transaction.on_commit(lambda: send_now(task, *args))


def send_now(task, *args) -> bool:
    try:
        task.delay(*args)
    except Exception:  # any broker failure: the sweeper retries later
        logger.warning("could not enqueue %s%r; left for the sweeper", task.name, args)
        return False
    return True
