"""SPEC §8, the whole demo loop in a real browser: export from «Поиск компаний», watch
the speedometer, renew and pay, the limit comes back; and a limit increase answered by
staff with an add-on offer, bought by invoice and confirmed by hand."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from podpiska.accounts.models import Organization
from podpiska.billing.models import Order
from podpiska.core import clock
from podpiska.demo.models import DirectoryExport
from podpiska.subscriptions.models import Subscription
from podpiska.support.models import LimitIncreaseRequest
from tests.e2e.conftest import DESKTOP, shot, staff_page
from tests.e2e.test_customer_screens import open_menu, paid_user

pytestmark = pytest.mark.e2e


def export_rows(page, rows: int, *, confirm: bool = False):
    """Export `rows`; `confirm` when it takes more than 10 % of what remains (asked first)."""
    form = page.locator("form.dir-export")
    form.locator("input[name=rows]").fill(str(rows))
    form.locator("select[name=file_format]").select_option("xlsx")
    form.get_by_test_id("export-button").click()
    if confirm:
        expect(page.get_by_test_id("export-confirm")).to_contain_text(f"спишет {rows:,}".replace(",", " "))
        page.get_by_test_id("export-confirm-button").click()


def test_export_renew_online_and_the_limit_comes_back(open_page, live_server):
    page = paid_user(open_page)
    gauge = page.get_by_test_id("gauge-text")
    expect(gauge).to_have_text("8 740 / 10 000")

    # 1. Filter the directory, export 500 rows to XLSX: the file downloads, 500 are spent.
    page.get_by_role("link", name="Поиск компаний").click()
    expect(page.locator("h1")).to_have_text("Поиск компаний")
    page.locator("select[name=status]").select_option("active")
    page.get_by_role("button", name="Найти").click()
    expect(page).to_have_url(f"{live_server.url}/directory/?q=&region=&okved=&status=active")
    expect(page.locator("section[aria-labelledby=export-title]")).to_contain_text(
        "осталось 1 260 из 10 000"
    )
    expect(page.get_by_test_id("export-spend")).to_contain_text("Спишется: 50 строк, останется: 1 210")
    with page.expect_download() as download_info:
        export_rows(page, 500, confirm=True)
    download = download_info.value
    assert download.suggested_filename == "kompanii-2026-11-27-500.xlsx"
    assert download.path().read_bytes()[:2] == b"PK"  # an XLSX is a zip
    expect(page.locator(".messages")).to_contain_text(
        "Выгрузка готова: 500 строк, файл kompanii-2026-11-27-500.xlsx"
    )
    expect(gauge).to_have_text("9 240 / 10 000")
    shot(page, "loop_1_exported_500")

    # 2. 2 000 rows do not fit in the 760 left: refused with the remaining count, nothing spent.
    export_rows(page, 2000)
    expect(page.locator(".messages")).to_contain_text("Не хватает лимита выгрузки: осталось 760")
    expect(gauge).to_have_text("9 240 / 10 000")
    assert DirectoryExport.objects.filter(state="ready").count() == 1
    shot(page, "loop_2_limit_exhausted")

    # 3. The warning is shown; renew online in the sandbox; the warning is gone.
    expect(page.get_by_test_id("warning-dot")).to_be_visible()
    open_menu(page)
    expect(page.get_by_test_id("menu-warning")).to_contain_text("Подписка заканчивается 06.12.2026")
    shot(page, "loop_3_warning")
    page.get_by_test_id("menu-renew").click()
    window = page.locator("#window")
    expect(window.get_by_test_id("variant-period")).to_contain_text("с 07.12.2026 по 06.12.2027")
    window.get_by_test_id("continue").click()
    expect(window.get_by_test_id("checkout-form")).to_be_visible()
    window.locator("input[name=payment_method][value=online]").check()
    shot(page, "loop_3_checkout_online")
    window.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("sandbox-page")).to_be_visible()
    expect(page.get_by_test_id("sandbox-amount")).to_contain_text("₽")
    shot(page, "loop_3_sandbox")
    page.get_by_test_id("sandbox-pay").click()
    page.wait_for_url(f"{live_server.url}/settings/")  # through the return page, paid at once
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("запланирована")
    expect(page.get_by_test_id("settings-scheduled")).to_contain_text("«Компас 200» с 07.12.2026")
    expect(page.get_by_test_id("warning-dot")).to_have_count(0)
    timeline.scroll_into_view_if_needed()
    shot(page, "loop_3_paid_settings")
    organization = Organization.objects.get(inn="7707083893")
    assert Subscription.objects.filter(organization=organization).count() == 2
    assert Order.objects.get(organization=organization).status == "fulfilled"

    # 4. Past the end of the current subscription: the new term's full limit.
    clock.freeze(clock.now() + timedelta(days=10))
    page.goto(f"{live_server.url}/directory/")
    expect(gauge).to_have_text("0 / 10 000")
    shot(page, "loop_4_new_term")
    with page.expect_download() as download_info:
        export_rows(page, 2000, confirm=True)
    assert download_info.value.suggested_filename == "kompanii-2026-12-07-2000.xlsx"
    expect(page.locator(".messages")).to_contain_text("Выгрузка готова: 2 000 строк")
    expect(gauge).to_have_text("2 000 / 10 000")
    shot(page, "loop_4_exported_2000")


def test_limit_increase_answered_with_an_addon_bought_by_invoice(open_page, browser, live_server):
    page = open_page("max@demo.local")
    gauge = page.get_by_test_id("gauge-text")
    expect(gauge).to_have_text("41 200 / 150 000")
    page.goto(f"{live_server.url}/settings/")
    page.fill("#id_extra_exports", "20000")
    page.fill("#id_comment", "Сезонная нагрузка")
    page.get_by_role("button", name="Отправить заявку").click()
    expect(page.get_by_test_id("limit-request-status")).to_contain_text("новая")
    shot(page, "loop_limit_requested")

    # Staff, in their own browser context, answer with an add-on offer.
    staff_context = browser.new_context(viewport=DESKTOP, locale="ru-RU")
    try:
        staff = staff_page(staff_context, live_server)
        limit_request = LimitIncreaseRequest.objects.get()
        staff.goto(
            f"{live_server.url}/staff/organizations/{limit_request.organization_id}/overview/"
        )
        staff.get_by_role("link", name="Ответить предложением").click()
        expect(staff.locator("body")).to_contain_text("просит увеличить лимит на 20 000 выгрузок")
        expect(staff.locator("#id_extra_exports")).to_have_value("20000")
        staff.fill("#id_price", "30 000,00")
        staff.fill("#id_answer", "Предлагаем докупить 20 000 выгрузок.")
        shot(staff, "loop_staff_limit_answer")
        staff.get_by_role("button", name="Отправить предложение").click()
        expect(staff.locator("body")).to_contain_text("Ответ отправлен")
        shot(staff, "loop_staff_answered")

        # The customer buys the offer by invoice.
        page.reload()
        offers = page.get_by_test_id("offers")
        expect(offers.locator("h3")).to_have_text("+20 000 выгрузок")
        expect(offers).to_contain_text("+20 000 выгрузок к текущей подписке")
        offers.scroll_into_view_if_needed()
        shot(page, "loop_offer_shown")
        offers.get_by_test_id("offer-button").click()
        window = page.locator("#window")
        window.get_by_test_id("continue").click()
        expect(window.get_by_test_id("checkout-form")).to_be_visible()
        window.locator("input[name=payment_method][value=invoice]").check()
        window.get_by_test_id("place-order").click()
        expect(window.get_by_test_id("order-placed")).to_be_visible()
        shot(page, "loop_addon_invoice")
        expect(window).to_contain_text("Выгрузки добавятся к лимиту, когда деньги поступят")
        placed = window.get_by_test_id("order-placed").inner_text()
        number = re.search(r"Выставлен счёт № (\d{4}-\d{5})", placed)[1]
        amount = re.search(r"Сумма ([\d\s]+,\d\d)\s₽", placed)[1]
        order = Order.objects.get(organization_id=limit_request.organization_id, kind="addon")
        assert (number, amount) == (order.invoice.display_number, "30\xa0000,00")
        with page.context.expect_page() as invoice_tab:
            window.get_by_test_id("invoice-link").click()
        invoice = invoice_tab.value
        expect(invoice.locator("body")).to_contain_text(f"№ {number}")
        expect(invoice.locator("body")).to_contain_text(
            "Выгрузки добавятся к лимиту текущей подписки"
        )
        shot(invoice, "loop_addon_invoice_page")
        invoice.close()

        # Staff confirm the bank payment by hand with the number read off the invoice.
        staff.goto(f"{live_server.url}/staff/payments/confirm/")
        staff.fill("#id_reference", number)
        staff.fill("#id_amount", amount)
        staff.fill("#id_doc_date", "2026-11-27")
        staff.fill("#id_doc_number", "512")
        staff.fill("#id_payer_inn", "7810050010")
        shot(staff, "loop_staff_confirm")
        staff.get_by_role("button", name="Зачесть платёж").click()
        expect(staff.locator("body")).to_contain_text("Платёж зачтён, заказ исполнен")
        expect(staff.locator(".figure").nth(1)).to_have_text("41 200 / 170 000")
        shot(staff, "loop_staff_confirmed")
    finally:
        staff_context.close()

    order.refresh_from_db()
    assert order.status == "fulfilled"
    page.keyboard.press("Escape")
    page.reload()
    expect(gauge).to_have_text("41 200 / 170 000")
    expect(page.get_by_test_id("offers")).to_have_count(0)  # the bought offer is not sold again
    open_menu(page)
    shot(page, "loop_limit_grown")


def test_bank_transfer_confirmed_by_the_demo_statement(open_page, browser, live_server):
    """Renew by invoice; staff download the demo's bank statement, upload it, and the
    renewal is paid: the customer's menu says so and the stranger waits in the queue."""
    page = paid_user(open_page)
    open_menu(page)
    page.get_by_test_id("menu-renew").click()
    window = page.locator("#window")
    window.get_by_test_id("continue").click()
    window.get_by_test_id("place-order").click()
    expect(window.get_by_test_id("order-placed")).to_be_visible()
    order = Order.objects.get(organization__inn="7707083893")

    staff_context = browser.new_context(viewport=DESKTOP, locale="ru-RU", accept_downloads=True)
    try:
        staff = staff_page(staff_context, live_server)
        staff.goto(f"{live_server.url}/staff/statements/upload/")
        expect(staff.get_by_test_id("demo-statement")).to_contain_text("сейчас их 1")
        with staff.expect_download() as download_info:
            staff.get_by_role("link", name="скачайте выписку банка за сегодня").click()
        statement = download_info.value.path()
        staff.set_input_files("input[type=file]", statement)
        staff.get_by_role("button", name="Загрузить").click()
        expect(staff.locator("body")).to_contain_text("Выписка загружена")
        report = staff.locator("table.staff-table")
        expect(report.locator("tr", has_text="Зачтено автоматически")).to_contain_text("1")
        expect(report.locator("tr", has_text="В очередь разбора")).to_contain_text("1")
        shot(staff, "loop_staff_statement_report")
        staff.get_by_role("link", name="1", exact=True).click()
        expect(staff.locator("body")).to_contain_text("7700000016")
        shot(staff, "loop_staff_statement_queue")
    finally:
        staff_context.close()

    order.refresh_from_db()
    assert order.status == "fulfilled"
    page.reload()
    open_menu(page)
    expect(page.get_by_test_id("org-menu-panel")).not_to_contain_text("ожидает оплаты")
    shot(page, "loop_statement_paid_menu")
