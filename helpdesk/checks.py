"""Deploy checks (``manage.py check --deploy``) for what Django's own do not know about."""

from django.conf import settings
from django.core.checks import Warning

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def check_shared_cache(app_configs=None, **kwargs) -> list[Warning]:
    """Several web processes must share one cache: it carries the login-failure counts and
    the tokens that tell every process a role or a private team changed (helpdesk.snapshots)."""
    if settings.CACHES["default"]["BACKEND"] not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            "The cache is kept in each process: REDIS_URL is not set.",
            hint="Set REDIS_URL. Without it, login throttling counts per process, and a role "
            "or private-team change reaches the other web processes only when their copies "
            "expire (60 s).",
            id="helpdesk.W001",
        )
    ]
