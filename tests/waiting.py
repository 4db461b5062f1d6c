"""Polling for a condition that another process (browser, worker, server) makes true."""

import time
from collections.abc import Callable

import pytest


def wait_until(
    condition: Callable,
    *,
    timeout: float,
    what: str = "condition",
    interval: float = 0.1,
    details: Callable[[], str] = lambda: "",
):
    """Return the first truthy value of ``condition()``; fail the test after ``timeout`` seconds,
    with ``details()`` appended to the message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{details()}".rstrip())
