"""Settings of the Celery workers the integration tests start: the production shape from the
environment, plus a prefix on every broker key, so that test sessions running side by side
(xdist workers, other developers on the same Redis) never take each other's tasks."""

from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import CELERY_BROKER_TRANSPORT_OPTIONS, env

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": env("TEST_BROKER_KEY_PREFIX"),
}
