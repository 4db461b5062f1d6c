"""Faults injected into real processes, each bounded in time. Private PostgreSQL clusters and
Redis servers are started for the tests that stop them, so the shared services are never touched.

Fast variant in CI: one round each. Long run: ``FAULT_ROUNDS=20 .venv/bin/pytest
tests/integration/test_faults.py``.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.real_services import missing

FAULT_ROUNDS = int(os.environ.get("FAULT_ROUNDS", "1"))
PG_BIN = Path("/usr/lib/postgresql/15/bin")
FAIL_FAST_SECONDS = 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on its own port and socket directory."""

    def __init__(self, root: Path):
        self.data = root / "data"
        self.port = _free_port()
        self.log = root / "postgres.log"
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust")

    def _run(self, *command) -> None:
        subprocess.run(
            _as_postgres([str(part) for part in command]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "start")

    def stop(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")


@pytest.fixture
def private_postgres():
    if not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and not shutil.which("runuser")):
        missing(f"the PostgreSQL fault test needs {PG_BIN}/initdb")
    root = Path(tempfile.mkdtemp(prefix="hd-faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PrivatePostgres(root)
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def web_server(database_url: str):
    """gunicorn (one sync worker, persistent database connections) on a free port."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "600",
        "REDIS_URL": "",
    }
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "helpdesk.wsgi", "-b", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while _get(f"{base}/healthz/")[0] is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"gunicorn did not start:\n{log.read().decode()[-3000:]}")
                time.sleep(0.2)
            yield base, process
        finally:
            process.terminate()
            process.wait(timeout=20)


def _get(url: str) -> tuple[int | None, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=FAIL_FAST_SECONDS * 2) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None, {}, ""


def test_a_postgres_restart_gives_a_fast_503_then_the_app_recovers_by_itself(private_postgres):
    with web_server(private_postgres.url) as (base, gunicorn):
        assert _get(f"{base}/healthz/")[0] == 200
        for _ in range(FAULT_ROUNDS):
            # when: the database goes away under a running app with a persistent connection
            private_postgres.stop()
            started = time.monotonic()
            status, headers, body = _get(f"{base}/healthz/")

            # then: a clear 503 page, at once
            assert status == 503
            assert time.monotonic() - started < FAIL_FAST_SECONDS
            assert headers["Retry-After"] == "30"
            assert "cannot reach its database" in body

            # when: it is back, the same process answers again
            private_postgres.start()
            assert _get(f"{base}/healthz/")[0] == 200
        assert gunicorn.poll() is None
