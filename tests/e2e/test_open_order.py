"""Renew → switch to the upgrade → the renewal is cancelled and its invoice annulled →
pay the upgrade → its УПД downloaded as PDF and XML; and the notice that paid coverage
ended, with «Возобновить»."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from podpiska.billing.models import ClosingDocument, Invoice, Order
from tests.billing.upd_schema import assert_valid_upd
from tests.e2e.conftest import PHONE, shot
from tests.e2e.test_customer_screens import open_menu, paid_user

pytestmark = pytest.mark.e2e

ROMASHKA = "7707083893"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_renew_then_upgrade_cancels_the_renewal_then_pay(open_page, live_server, viewport):
    page = paid_user(open_page, **({"viewport": PHONE} if viewport == "phone" else {}))
    window = page.locator("#window")
    # 1. «Продлить подписку» by invoice.
    open_menu(page)
    page.get_by_test_id("menu-renew").click()
    window.get_by_test_id("continue").click()
    window.get_by_test_id("place-order").click()
    expect(window.get_by_test_id("order-placed")).to_be_visible()
    renewal = Order.objects.get(organization__inn=ROMASHKA, kind="renew")
    number = renewal.invoice.display_number
    page.keyboard.press("Escape")
    # 2. «Улучшить подписку»: the open renewal is shown first, with its invoice and a way out.
    open_menu(page)
    expect(page.get_by_test_id("pending-order")).to_contain_text(f"счёт № {number}")
    shot(page, f"menu_open_order_{viewport}")
    page.get_by_test_id("menu-upgrade").click()
    expect(window.get_by_test_id("open-order")).to_contain_text(f"счёт № {number}")
    expect(window.get_by_test_id("replace-note")).to_be_visible()
    expect(window.get_by_test_id("open-order-pay")).to_be_visible()
    expect(window.get_by_test_id("cancel-order")).to_be_visible()
    expect(window.get_by_test_id("variant-reason")).not_to_contain_text("хватает")
    shot(page, f"open_order_before_upgrade_{viewport}")
    # 3. Place the upgrade (online): the renewal is cancelled and its invoice annulled.
    window.get_by_test_id("continue").click()
    window.locator("input[name=payment_method][value=online]").check()
    window.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("sandbox-page")).to_be_visible()
    renewal.refresh_from_db()
    assert renewal.status == "cancelled" and renewal.invoice.annulled_at is not None
    # 4. Pay. (The test settings send the «Оплата получена» letter inside this request, and
    # it renders the УПД to attach: on a busy machine that takes a while.)
    page.get_by_test_id("sandbox-pay").click(timeout=60_000)
    page.wait_for_url(f"{live_server.url}/settings/", timeout=60_000)
    upgrade = Order.objects.get(organization__inn=ROMASHKA, kind="upgrade")
    assert upgrade.status == "fulfilled"
    page.goto(f"{live_server.url}/settings/")
    expect(page.get_by_test_id("timeline")).to_contain_text("Компас 400")
    expect(page.get_by_test_id("settings-scheduled")).to_contain_text("«Компас 400» с 07.12.2026")
    orders = page.get_by_test_id("orders")
    expect(orders.get_by_test_id(f"order-row-{renewal.pk}")).to_contain_text("аннулирован")
    expect(orders.get_by_test_id(f"order-row-{renewal.pk}")).to_contain_text("Заменён новым заказом")
    orders.get_by_test_id(f"order-row-{renewal.pk}").scroll_into_view_if_needed()
    shot(page, f"orders_after_upgrade_{viewport}")
    # 5. The paid upgrade's closing document, as PDF and as the ФНС XML; none for the renewal.
    document = ClosingDocument.objects.get(order=upgrade)
    assert not ClosingDocument.objects.filter(order=renewal).exists()
    row = orders.get_by_test_id(f"upd-{document.pk}")
    expect(row).to_contain_text(f"№ {document.display_number}")
    with page.expect_download() as pdf_download:
        row.get_by_role("link", name="PDF").click()
    assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as xml_download:
        row.get_by_role("link", name="XML").click()
    assert xml_download.value.suggested_filename.startswith("ON_NSCHFDOPPR_")
    assert_valid_upd(Path(xml_download.value.path()).read_bytes())
    # The menu offers no «upgrade» to 400 any more: Компас 400 is paid for.
    open_menu(page)
    expect(page.get_by_test_id("menu-scheduled")).to_contain_text("Компас 400")
    # The annulled invoice keeps its number and says so.
    invoice = Invoice.objects.get(order=renewal)
    page.goto(f"{live_server.url}/billing/invoices/{invoice.pk}/")
    expect(page.get_by_test_id("annulled-stamp")).to_be_visible()
    expect(page.get_by_test_id("annulled")).to_contain_text("Заменён новым заказом")
    expect(page.locator("h1")).to_contain_text(number)
    shot(page, f"annulled_invoice_{viewport}")
    page.goto(f"{live_server.url}/orders/{upgrade.pk}/")
    expect(page.get_by_test_id("order-period")).to_contain_text("с 07.12.2026 по 06.12.2027")
    shot(page, f"order_page_{viewport}")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_lapsed_notice_with_resume_and_hide(open_page, viewport):
    page = open_page("expired@demo.local", **({"viewport": PHONE} if viewport == "phone" else {}))
    notice = page.get_by_test_id("home-lapsed")
    expect(notice).to_contain_text("закончилась")
    expect(notice).to_contain_text("Сейчас действует бесплатный тариф")
    shot(page, f"lapsed_home_{viewport}")
    notice.get_by_test_id("home-lapsed-resume").click()
    expect(page.locator("#window")).to_contain_text("Возобновление подписки")
    page.keyboard.press("Escape")
    open_menu(page)
    expect(page.get_by_test_id("menu-lapsed")).to_be_visible()
    shot(page, f"lapsed_menu_{viewport}")
    page.keyboard.press("Escape")
    page.get_by_test_id("home-lapsed-hide").click()
    expect(page.get_by_test_id("home-lapsed")).to_have_count(0)
