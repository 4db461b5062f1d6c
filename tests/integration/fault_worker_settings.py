"""Settings of the workers the fault tests kill: the usual worker settings with a short Redis
visibility timeout, so the task of a killed worker is delivered again within seconds (in
production it is an hour). kombu looks for such tasks every 10 s and scans on one look in 10;
here it scans every second."""

from tests.integration.worker_settings import *  # noqa: F403
from tests.integration.worker_settings import CELERY_BROKER_TRANSPORT_OPTIONS, env

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": env.int("FAULT_VISIBILITY_TIMEOUT"),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
