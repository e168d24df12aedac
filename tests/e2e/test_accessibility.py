"""Every customer page and window, in Russian and English, at desktop and 390 px:
axe-core finds no serious or critical violation, and at 390 px nothing scrolls sideways."""

import pytest
from playwright.sync_api import expect

from podpiska.accounts.models import Organization, User
from podpiska.billing.actions import place_order
from tests.e2e.audit import axe_violations, overflowing_elements, sideways_overflow
from tests.e2e.conftest import ARTIFACTS, DESKTOP, PHONE, shot

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


class Walk:
    def __init__(self, page, base_url: str, viewport: str, language: str):
        self.page, self.base_url, self.viewport, self.language = page, base_url, viewport, language
        self.problems: list[str] = []

    def check(self, name: str, context: str = "document"):
        self.page.wait_for_load_state("load")
        for violation in axe_violations(self.page, context):
            self.problems.append(f"{name}: {violation}")
        if self.viewport == "phone":
            over = sideways_overflow(self.page)
            if over > 0:
                culprits = ", ".join(overflowing_elements(self.page))
                self.problems.append(f"{name}: scrolls sideways by {over}px at 390 px ({culprits})")
        shot(self.page, f"a11y_{self.language}_{self.viewport}_{name}")
        if self.viewport == "phone":
            self.page.screenshot(path=str(ARTIFACTS / f"a11y_{self.language}_{self.viewport}_{name}_full.png"),
                                 full_page=True)

    def goto(self, path: str, name: str):
        response = self.page.goto(f"{self.base_url}{path}")
        assert response.status < 500, (path, response.status)
        self.check(name)

    def window(self, opener_selector: str, name: str):
        self.page.click(opener_selector)
        window = self.page.locator("#window")
        expect(window).to_be_visible()
        expect(window.locator("#window-title")).not_to_be_empty()
        self.check(name)


def open_menu(page):
    page.click("#org-menu > summary")
    expect(page.get_by_test_id("org-menu-panel")).to_be_visible()


def choose_language(page, language: str):
    if language == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.fixture
def invoice_of_romashka(demo):
    organization = Organization.objects.get(inn="7707083893")
    order = place_order(organization=organization, user=User.objects.get(email="paid@demo.local"),
                        kind="renew", payment_method="invoice", idempotency_key="e2e-a11y",
                        tariff=organization.subscriptions.order_by("-ends_at").first().tariff)
    return order.invoice


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_customer_page_and_window_is_accessible_and_fits(
    browser, live_server, open_page, invoice_of_romashka, viewport, language
):
    size = VIEWPORTS[viewport]
    # The sign-in page, before anyone is signed in.
    context = browser.new_context(viewport=size, locale="ru-RU")
    anonymous = context.new_page()
    anonymous.goto(f"{live_server.url}/login/")
    choose_language(anonymous, language)
    walk = Walk(anonymous, live_server.url, viewport, language)
    walk.check("login")
    walk.goto("/no-such-page/", "not_found")
    context.close()

    page = open_page("paid@demo.local", viewport=size)
    choose_language(page, language)
    walk.page = page
    if page.locator(".orgmenu-name").inner_text() != "ООО «Ромашка»":
        open_menu(page)
        page.get_by_role("button", name="ООО «Ромашка»").click()
    walk.goto("/", "home")
    open_menu(page)
    walk.check("org_menu")
    walk.window("[data-testid=menu-renew]", "renew_window")
    page.locator("#window").get_by_test_id("continue").click()
    expect(page.locator("#window").get_by_test_id("checkout-form")).to_be_visible()
    walk.check("checkout_window")
    page.keyboard.press("Escape")
    open_menu(page)
    walk.window("[data-testid=menu-upgrade]", "upgrade_window")
    page.keyboard.press("Escape")
    walk.goto("/settings/", "settings")
    walk.goto("/settings/requisites/", "requisites")
    walk.goto("/profile/", "profile")
    walk.goto(f"/billing/invoices/{invoice_of_romashka.pk}/", "invoice")
    walk.goto("/directory/", "directory")
    walk.goto("/directory/?q=%D0%BE%D0%BE%D0%BE", "directory_search")
    walk.goto("/directory/?confirm_rows=500&file_format=xlsx&key=a11y-confirm-key", "directory_confirm_export")
    expect(page.get_by_test_id("export-confirm")).to_be_visible()
    page.locator("section[aria-labelledby=export-title]").screenshot(
        path=str(ARTIFACTS / f"a11y_{language}_{viewport}_export_section.png"))
    page.get_by_test_id("help-button").click()
    expect(page.get_by_test_id("support-panel")).to_be_visible()
    walk.check("support_panel")

    # A long organization name in the header: it gives way (ellipsis), nothing scrolls.
    Organization.objects.filter(memberships__user__email="free@demo.local").update(
        short_name="ООО «Научно-производственное объединение «Северо-Западный региональный центр»»")
    free = open_page("free@demo.local", viewport=size)
    choose_language(free, language)
    walk.page = free
    walk.goto("/", "free_home")
    walk.goto("/settings/", "free_settings")
    # The largest limit in the header (150 000) and an organization that had paid before.
    walk.page = open_page("max@demo.local", viewport=size)
    choose_language(walk.page, language)
    walk.goto("/", "max_home")
    walk.page = open_page("expired@demo.local", viewport=size)
    choose_language(walk.page, language)
    walk.goto("/settings/", "expired_settings")
    assert not walk.problems, "\n".join(walk.problems)
