"""Browser tests drive Debian's Chromium (never `playwright install`) against the running suite.

They use committed data (transactional tests) because the suite's processes read the test
database over their own connections; the processes are started per test, after the data.
"""

from __future__ import annotations

import os

import pytest

from tests.browser import harness


@pytest.fixture
def chromium(transactional_db, monkeypatch):
    """Chromium for one test, stopped before the test's data is flushed."""
    if not os.path.exists(harness.CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps its event loop registered on this thread between calls; the
    # ORM calls the test makes in between are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        yield browser
        # The test's ORM calls made while Playwright's loop was registered got connections of
        # their own context: close them here, in that context, or the test database cannot be
        # dropped at the end of the run ("being accessed by other users").
        from django.db import connections

        connections.close_all()
        browser.close()


@pytest.fixture
def database_name(transactional_db) -> str:
    from django.db import connection

    return connection.settings_dict["NAME"]


@pytest.fixture
def processes(transactional_db):
    """Collect the suite's processes of one test and stop them (before the data is flushed)."""
    started: list[harness.Process] = []
    yield started
    for process in reversed(started):
        process.stop()


def login(page, base_url: str, username: str, path: str = "/console/") -> None:  # type: ignore[no-untyped-def]
    """Log in through the login form and open ``path``."""
    page.goto(f"{base_url}/accounts/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "test-password")
    page.click("form.login-form button[type=submit]")
    page.wait_for_url(f"{base_url}{path}")
