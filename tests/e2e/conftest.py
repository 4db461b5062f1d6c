"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's
``live_server``. Playwright never downloads a browser here: it starts the executable at
``CHROMIUM_PATH`` (default /usr/bin/chromium). Without it the tests are skipped, and under
``CI=true`` they fail (tests/real_services.py).

Fixtures:

``browser``
    One headless Chromium for the session.
``page``
    A fresh browser context and page per test, on a 1280x800 viewport; ``page.base_url`` is the
    live server's address (the test database is committed for real, as ``transactional_db``).
``login``
    ``login(page, user)`` signs in through the login form (factory users have the password
    "password") and waits for the inbox.
``screenshot``
    ``screenshot(page, name)`` saves the whole page as ``test-artifacts/screenshots/<name>.png``.
``wait_for``
    ``wait_for(condition, timeout=15, what="...")`` polls ``condition()`` until it is truthy and
    returns its value, or fails naming ``what``.
``smtp_server`` (tests/smtp.py)
    A real SMTP server that Django's mail goes to; ``smtp_server.messages`` are what it accepted.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.real_services import (  # noqa: F401  (pytest hooks, applied to this folder)
    missing,
    pytest_make_collect_report,
    pytest_runtest_makereport,
)
from tests.waiting import wait_until

# Playwright's sync API runs an event loop in this thread; Django's ORM, called from the test
# body and fixtures, would otherwise refuse to run "from an async context".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
FACTORY_PASSWORD = "password"
HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).is_file():
        missing(f"browser tests need Chromium at {executable} (set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def login():
    def sign_in(page, user) -> None:
        page.goto("/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", FACTORY_PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(lambda url: "/login/" not in url)

    return sign_in


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def wait_for():
    def wait(condition, *, timeout: float = 15, what: str = "condition"):
        return wait_until(condition, timeout=timeout, what=what)

    return wait
