"""«Назад» from checkout returns to the variant inside the same window."""

import pytest
from playwright.sync_api import expect

from podpiska.billing.models import Order
from tests.e2e.conftest import shot

pytestmark = pytest.mark.e2e


def test_back_from_checkout_to_the_variant_and_on_again(open_page):
    page = open_page("paid@demo.local")
    if page.locator(".orgmenu-name").inner_text() != "ООО «Ромашка»":
        page.click("#org-menu > summary")
        page.get_by_role("button", name="ООО «Ромашка»").click()
    page.click("#org-menu > summary")
    page.get_by_test_id("menu-upgrade").click()
    window = page.locator("#window")
    expect(window.get_by_test_id("variant")).to_contain_text("Компас 400")
    window.get_by_test_id("continue").click()
    expect(window.get_by_test_id("checkout-form")).to_be_visible()
    window.get_by_test_id("back-to-variant").scroll_into_view_if_needed()
    shot(page, "checkout_with_back")

    window.get_by_test_id("back-to-variant").click()
    expect(window.get_by_test_id("checkout-form")).to_have_count(0)
    expect(window.get_by_test_id("variant")).to_contain_text("Компас 400")
    expect(window).to_be_visible()  # still the window, not a page of its own
    assert "/buy/" not in page.url

    window.get_by_test_id("continue").click()
    expect(window.get_by_test_id("checkout-form")).to_be_visible()
    assert not Order.objects.exists()  # going back and forth orders nothing
