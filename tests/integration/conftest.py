"""Real services for integration tests: PostgreSQL, Redis and a real Celery worker process.

Run them with ``DATABASE_URL=postgres://...`` and ``REDIS_URL=redis://...`` set (``.ci/run`` does).
Without those the tests here are skipped; under ``CI=true`` they fail instead
(tests/real_services.py).

Fixtures for any integration test:

``postgres``
    The test database is PostgreSQL (pytest-django's ``test_<name>``, ``test_<name>_gw0`` under
    xdist). Request it in tests that need PostgreSQL behaviour.
``redis_url``
    The Redis URL from the settings, after a PING answered.
``celery_worker``
    One real ``celery -A helpdesk worker`` subprocess for the whole session, pointed at the
    test database and at Redis, with ``CELERY_TASK_ALWAYS_EAGER=False``. It sends mail with
    Django's file backend into ``celery_worker.mail_dir``; ``celery_worker.log()`` is its output.
``live_celery``
    For a test: the database committed for real (``transactional_db``), with the rows the
    migrations create put back first (tests/conftest.py: an earlier transactional test's
    flush removed them), the worker's mail folder emptied, and the web side enqueueing to
    Redis instead of running tasks eagerly. Yields the ``celery_worker``.
``spawn_celery_worker``
    A context manager ``spawn_celery_worker(env={...})`` starting another worker (different mail
    settings, or one a test kills); it is stopped when the block ends.
``use_broker``
    ``use_broker(url)`` points the web side at another broker for the rest of the test, for
    example a closed port to play "Redis is down"; the original broker is restored afterwards.
``closed_port_url``
    A ``redis://`` URL on a local port nothing listens on.
``wait_until``
    ``wait_until(condition, timeout=30, what="...")`` polls ``condition()`` until it is truthy
    and returns its value, or fails with the worker's log tail.

Each test session (each xdist process) prefixes its broker keys with ``BROKER_KEY_PREFIX``, on
the web side and in its workers (tests/integration/worker_settings.py), so parallel sessions
sharing one Redis never take each other's tasks.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from helpdesk.celery import app as celery_app
from tests import waiting
from tests.real_services import (  # noqa: F401  (pytest hooks, applied to this folder)
    missing,
    pytest_make_collect_report,
    pytest_runtest_makereport,
)

WORKER_START_TIMEOUT = 60
BROKER_KEY_PREFIX = f"test-{uuid.uuid4().hex[:12]}:"
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def postgres(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            missing("integration tests need PostgreSQL: set DATABASE_URL=postgres://...")
    yield connection.settings_dict
    with django_db_blocker.unblock():
        _end_other_sessions()


def _end_other_sessions() -> None:
    """A worker process stopped by the last test may still be closing its connection when
    pytest-django drops the test database, which then fails ("being accessed by other users")."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session")
def redis_url():
    url = django_settings.REDIS_URL
    if not url:
        missing("integration tests need Redis: set REDIS_URL=redis://...")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing(f"Redis at {url} does not answer: {error}")
    return url


def _database_url(db: dict) -> str:
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


class CeleryWorker:
    """A ``celery worker`` subprocess with its log file and mail folder."""

    def __init__(self, env: dict, workdir: Path):
        self.name = f"it-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        self.mail_dir = workdir / "mail"
        self.mail_dir.mkdir(parents=True)
        self.log_path = workdir / "worker.log"
        worker_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
            "TEST_BROKER_KEY_PREFIX": BROKER_KEY_PREFIX,
            "CELERY_TASK_ALWAYS_EAGER": "False",
            "EMAIL_URL": f"filemail:///{self.mail_dir}",  # environ drops one leading slash
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "CONN_MAX_AGE": "0",
            **env,
        }
        command = [
            *(sys.executable, "-m", "celery", "-A", "helpdesk", "worker"),
            *("--pool", "solo", "--loglevel", "INFO", "--hostname", self.name),
            *("--without-gossip", "--without-mingle"),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=django_settings.BASE_DIR,
                env=worker_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sent_mail(self) -> list[str]:
        return [path.read_text() for path in sorted(self.mail_dir.glob("*.log"))]

    def forget_mail(self) -> None:
        for path in self.mail_dir.glob("*.log"):
            path.unlink()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"celery worker exited at start:\n{self.log()[-4000:]}")
            if " ready." in self.log():
                return
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"celery worker not ready in {WORKER_START_TIMEOUT}s:\n{self.log()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL, as a crashed machine would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture(scope="session")
def spawn_celery_worker(postgres, redis_url, tmp_path_factory):
    """Start workers on the test database; each is stopped when its ``with`` block ends."""

    @contextlib.contextmanager
    def spawn(env: dict | None = None):
        workdir = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp(), prefix="worker-"))
        worker_env = {"DATABASE_URL": _database_url(postgres), "REDIS_URL": redis_url}
        worker = CeleryWorker({**worker_env, **(env or {})}, workdir)
        try:
            yield worker
        finally:
            worker.stop()
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(worker.log_path, ARTIFACTS / f"celery-{worker.name.split('@')[0]}.log")

    return spawn


@pytest.fixture(scope="session")
def celery_worker(spawn_celery_worker, redis_url):
    with spawn_celery_worker() as worker:
        yield worker
    broker = redis.Redis.from_url(redis_url)
    leftovers = list(broker.scan_iter(f"{BROKER_KEY_PREFIX}*"))
    if leftovers:
        broker.delete(*leftovers)


def _reset_broker_connections() -> None:
    # Celery caches its broker connection and producer pools; a new URL needs fresh ones.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def live_celery(celery_worker, transactional_db, settings):
    celery_worker.forget_mail()
    transport_options = celery_app.conf.broker_transport_options
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_transport_options = {
        **transport_options,
        "global_keyprefix": BROKER_KEY_PREFIX,
    }
    _reset_broker_connections()
    try:
        yield celery_worker
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.conf.broker_transport_options = transport_options
        _reset_broker_connections()


@pytest.fixture
def use_broker():
    original = celery_app.conf.broker_url

    def switch(url: str) -> None:
        celery_app.conf.broker_url = url
        _reset_broker_connections()

    yield switch
    switch(original)


@pytest.fixture
def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def wait_until(request):
    def worker_log() -> str:
        if "celery_worker" not in request.fixturenames:
            return ""
        return request.getfixturevalue("celery_worker").log()[-4000:]

    def wait(condition, *, timeout: float = 30, what: str = "condition"):
        return waiting.wait_until(
            condition, timeout=timeout, what=what, interval=0.2, details=worker_log
        )

    return wait
