"""Skip-or-fail policy for tests that need real outside services (PostgreSQL, Redis, a Celery
worker, Chromium, an IMAP server).

On a developer's machine a missing service skips those tests. Under ``CI=true`` it fails them:
a CI run that quietly skipped the real-service tests would prove nothing. The two hooks below are
imported by tests/integration/conftest.py and tests/e2e/conftest.py, so they apply to the tests
in those folders only, and they turn any skip there (``missing()``, a ``skipif`` marker, an
``importorskip``) into a failure under CI.
"""

import os

import pytest


def under_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing(what: str) -> None:
    """Stop the current test because ``what`` is not available: skip locally, fail under CI."""
    if under_ci():
        pytest.fail(f"{what} (CI=true: a missing service is a failure, not a skip)", pytrace=False)
    pytest.skip(what)


def _fail_if_skipped(report) -> None:
    if under_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_if_skipped(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_if_skipped(outcome.get_result())
