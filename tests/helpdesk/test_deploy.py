"""The production stack: docker-compose.yml's shape, and static files served by whitenoise."""

import json
import runpy
import secrets
from pathlib import Path

import yaml
from django.conf import settings

from tests.helpdesk.test_settings import run_python

COMPOSE = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
SERVE_STATIC = """
import json, re, tempfile, django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings
with tempfile.TemporaryDirectory() as root, override_settings(STATIC_ROOT=root):
    call_command("collectstatic", "--noinput", verbosity=0)
    client = Client()
    page = client.get("/login/", secure=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.content.decode())
    print(json.dumps({
        "page": page.status_code,
        "assets": {url: client.get(url, secure=True).status_code for url in assets},
    }))
"""


def test_compose_runs_web_worker_beat_postgres_and_redis_each_with_a_health_check():
    services = COMPOSE["services"]

    assert set(services) == {"web", "worker", "beat", "db", "redis"}
    assert all("healthcheck" in service for service in services.values())
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "media"}


def test_compose_app_services_share_the_image_settings_and_schedules():
    services = COMPOSE["services"]
    web, worker, beat = services["web"], services["worker"], services["beat"]

    for service in (web, worker, beat):
        assert service["env_file"] == ".env"
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "helpdesk.settings.production"
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert "migrate" in web["command"]
    assert "gunicorn -c python:helpdesk.gunicorn_conf" in web["command"]
    assert "/healthz/" in " ".join(web["healthcheck"]["test"])
    assert worker["command"].startswith("celery -A helpdesk worker")
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat["command"]
    assert "setup_periodic_tasks" in beat["command"] and "setup_periodic_tasks" in web["command"]


def test_gunicorn_serves_the_wsgi_app_with_web_concurrency_sync_workers(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "helpdesk" / "gunicorn_conf.py"))

    assert conf["wsgi_app"] == "helpdesk.wsgi:application"
    assert conf["workers"] == 3
    assert "worker_class" not in conf  # gunicorn's default: sync
    assert conf["bind"] == "0.0.0.0:8000"


def test_production_serves_the_pages_static_files_after_collectstatic():
    result = run_python(
        ["-c", SERVE_STATIC],
        DJANGO_SETTINGS_MODULE="helpdesk.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="testserver",
    )

    assert result.returncode == 0, result.stderr
    served = json.loads(result.stdout)
    assert served["page"] == 200
    assert any(url.endswith(".css") for url in served["assets"])
    assert set(served["assets"].values()) == {200}, served["assets"]
