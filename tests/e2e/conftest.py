"""End-to-end: the system Chromium (Playwright) against pytest-django's live server,
with the demo data loaded and the clock frozen at tests.conftest.NOW."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from podpiska.core import clock as core_clock
from tests.conftest import NOW

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
# test code (loading data, confirming a payment) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db):
    core_clock.freeze(NOW)
    call_command("demo", verbosity=0)
    yield
    core_clock.reset()


@pytest.fixture
def open_page(browser, live_server, demo):
    """open_page(email, viewport=DESKTOP) -> a signed-in page at the home page."""
    contexts = []

    def opener(email: str, viewport: dict = DESKTOP):
        context = browser.new_context(viewport=viewport, locale="ru-RU")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield opener
    for context in contexts:
        context.close()


def staff_page(context, live_server):
    """A page of `context` signed in to /staff/ as the demo's staff user."""
    staff = context.new_page()
    staff.set_default_timeout(10_000)
    staff.goto(f"{live_server.url}/staff/login/")
    staff.fill("input[name=username]", "staff@demo.local")
    staff.fill("input[name=password]", "demo")
    staff.locator("input[type=submit], button[type=submit]").first.click()
    staff.wait_for_url(f"{live_server.url}/staff/")
    return staff


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
