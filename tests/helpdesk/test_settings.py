"""Settings come from the environment: an embedded default, the production shape, deploy checks.

Each case runs in a fresh interpreter, because settings are read once at import.
"""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

CONFIG_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "EMAIL_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set for the browser tests in the same process
)
PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "eager": s.CELERY_TASK_ALWAYS_EAGER, "broker": s.CELERY_BROKER_URL,
    "result_backend": s.CELERY_RESULT_BACKEND,
    "cache": s.CACHES["default"]["BACKEND"], "cache_location": s.CACHES["default"].get("LOCATION"),
    "debug": s.DEBUG,
}))
"""


def run_python(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_with(**env: str) -> dict:
    result = run_python(["-c", PRINT_SETTINGS], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_nothing_set_the_demo_runs_on_sqlite_and_eager_celery():
    loaded = settings_with(DJANGO_SETTINGS_MODULE="helpdesk.settings.local")

    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(settings.BASE_DIR / "db.sqlite3")
    assert loaded["eager"] is True
    assert loaded["broker"] == "memory://"
    assert loaded["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert loaded["debug"] is True


def test_database_and_redis_urls_switch_to_postgresql_and_redis():
    loaded = settings_with(
        DJANGO_SETTINGS_MODULE="helpdesk.settings.local",
        DATABASE_URL="postgres://desk:pw@db.internal:5432/helpdesk",
        REDIS_URL="redis://cache.internal:6379/2",
    )

    assert loaded["engine"] == "django.db.backends.postgresql"
    assert (loaded["name"], loaded["host"]) == ("helpdesk", "db.internal")
    assert loaded["eager"] is False
    assert loaded["broker"] == "redis://cache.internal:6379/2"
    assert loaded["result_backend"] == "redis://cache.internal:6379/2"
    assert loaded["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["cache_location"] == "redis://cache.internal:6379/2"


def test_production_settings_pass_the_deploy_checks():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="helpdesk.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        REDIS_URL="redis://cache.internal:6379/0",
        DEBUG="true",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_the_deploy_checks_warn_when_web_processes_would_not_share_a_cache():
    result = run_python(
        ["manage.py", "check", "--deploy"],
        DJANGO_SETTINGS_MODULE="helpdesk.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
    )

    assert "helpdesk.W001" in result.stderr + result.stdout
    assert "REDIS_URL is not set" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_python(
        ["manage.py", "check"], DJANGO_SETTINGS_MODULE="helpdesk.settings.production"
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
