"""The closing document in a real browser: renew, pay by card in the sandbox, and the
order's УПД is downloadable from settings as PDF and XML (validated against ФНС's XSD);
staff find it in /staff/ and export the month."""

import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from podpiska.billing.models import ClosingDocument
from tests.billing.upd_schema import assert_valid_upd
from tests.e2e.conftest import PHONE, shot, staff_page
from tests.e2e.test_customer_screens import open_menu, paid_user

pytestmark = pytest.mark.e2e


def test_pay_by_card_then_download_the_upd(open_page, live_server):
    page = paid_user(open_page)
    open_menu(page)
    page.get_by_test_id("menu-renew").click()
    window = page.locator("#window")
    window.get_by_test_id("continue").click()
    window.locator("input[name=payment_method][value=online]").check()
    window.get_by_test_id("place-order").click()
    # The test settings send the «Оплата получена» letter inside this request (tasks run
    # immediately), and it renders the УПД to attach: on a busy machine that takes a while.
    page.get_by_test_id("sandbox-pay").click(timeout=60_000)
    page.wait_for_url(f"{live_server.url}/settings/", timeout=60_000)

    document = ClosingDocument.objects.get(organization__inn="7707083893")
    row = page.get_by_test_id(f"upd-{document.pk}")
    expect(row).to_contain_text(f"№ {document.display_number}")
    expect(page.get_by_test_id("orders")).to_contain_text("оплата картой")
    row.scroll_into_view_if_needed()
    shot(page, "upd_1_orders_list")

    with page.expect_download() as pdf_download:
        row.get_by_role("link", name="PDF").click()
    assert pdf_download.value.suggested_filename == f"upd-{document.display_number}.pdf"
    assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as xml_download:
        row.get_by_role("link", name="XML").click()
    assert xml_download.value.suggested_filename.startswith("ON_NSCHFDOPPR_")
    assert_valid_upd(Path(xml_download.value.path()).read_bytes())

    # At 390 px the orders list scrolls inside its card; the links stay reachable.
    phone = paid_user(open_page, viewport=PHONE)
    phone.goto(f"{live_server.url}/settings/#orders")
    phone_row = phone.get_by_test_id(f"upd-{document.pk}")
    phone_row.scroll_into_view_if_needed()
    expect(phone_row.get_by_role("link", name="XML")).to_be_visible()
    shot(phone, "upd_2_orders_list_390")

    staff = staff_page(page.context, live_server)
    staff.goto(f"{live_server.url}/staff/closing-documents/?month={document.issued_on:%Y-%m}")
    expect(staff.get_by_test_id(f"upd-{document.pk}")).to_contain_text("действителен")
    shot(staff, "upd_3_staff_month")
    with staff.expect_download() as zip_download:
        staff.get_by_role("link", name="ZIP: все УПД (PDF и XML) и реестр").click()
    names = zipfile.ZipFile(zip_download.value.path()).namelist()
    assert f"pdf/upd-{document.display_number}.pdf" in names
    staff.get_by_test_id(f"upd-{document.pk}").locator("input[name=reason]").fill("Возврат по заявлению")
    staff.get_by_test_id(f"upd-{document.pk}").get_by_role("button", name="Аннулировать").click()
    expect(staff.get_by_test_id(f"upd-{document.pk}")).to_contain_text("аннулирован")
    shot(staff, "upd_4_staff_annulled")
