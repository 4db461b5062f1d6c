from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# A per-process cache even when REDIS_URL is set (CI): no state shared between xdist workers
# or left over from an earlier run. Tests of the Redis cache itself override this.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = env.path("MEDIA_ROOT", default="/tmp/helpdesk-test-media")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# No collectstatic in tests: whitenoise looks the files up at request time instead of warning
# about a missing STATIC_ROOT on every request.
WHITENOISE_AUTOREFRESH = True
