"""Keyboard focus around windows, the PDF's progress, and how a failure looks."""

import pytest
from playwright.sync_api import expect

from podpiska.accounts.models import Organization, User
from podpiska.billing.actions import place_order
from tests.e2e.conftest import PHONE, shot, staff_page
from tests.e2e.test_customer_screens import open_menu, paid_user

pytestmark = pytest.mark.e2e


def focused(page) -> str:
    return page.evaluate(
        "(() => { const e = document.activeElement; return e.tagName + (e.id ? '#' + e.id : '') +"
        " (e.className ? '.' + e.className : ''); })()"
    )


def focus_lands_on(page, selector: str):
    """Waits (the dialog's close event comes a task after it hides) for focus on `selector`."""
    try:
        page.wait_for_function(f"document.activeElement && document.activeElement.matches({selector!r})",
                               timeout=3000)
    except Exception:
        raise AssertionError(f"focus is on {focused(page)}, not {selector}") from None


def test_escape_returns_focus_to_the_menu_button_and_windows_focus_their_heading(open_page):
    page = paid_user(open_page)
    page.focus("#org-menu > summary")
    page.keyboard.press("Enter")
    page.get_by_test_id("menu-renew").focus()
    page.keyboard.press("Enter")
    window = page.locator("#window")
    expect(window.get_by_test_id("continue")).to_be_visible()
    # The window's title, not «×»: a screen reader starts at what the window is about.
    assert focused(page) == "H2#window-title", focused(page)
    page.keyboard.press("Escape")
    expect(window).to_be_hidden()
    # The opener sat in the menu that closed: focus goes to the menu's button, not <body>.
    focus_lands_on(page, "summary.orgmenu-button")

    page.keyboard.press("Enter")
    page.get_by_test_id("menu-renew").focus()
    page.keyboard.press("Enter")
    window.get_by_test_id("continue").click()
    expect(window.get_by_test_id("checkout-form")).to_be_visible()
    assert focused(page).startswith("INPUT"), focused(page)  # the first field of the form
    window.locator("[data-close-window]").click()
    focus_lands_on(page, "summary.orgmenu-button")


def test_pdf_link_shows_progress_when_it_takes_over_a_second(open_page, live_server):
    organization = Organization.objects.get(inn="7707083893")
    order = place_order(organization=organization, user=User.objects.get(email="paid@demo.local"),
                        kind="renew", payment_method="invoice", idempotency_key="e2e-pdf",
                        tariff=organization.subscriptions.order_by("-ends_at").first().tariff)
    page = paid_user(open_page)
    page.goto(f"{live_server.url}/billing/invoices/{order.invoice.pk}/")
    held = []
    page.route("**/*.pdf", lambda route: held.append(route))  # the server "is slow" until released
    status = page.get_by_test_id("pdf-status")
    page.get_by_test_id("pdf-link").click()
    expect(status).to_have_text("Готовим PDF…", timeout=5000)
    assert page.get_by_test_id("pdf-link").get_attribute("aria-busy") == "true"
    shot(page, "invoice_pdf_in_progress")
    with page.expect_download() as download:
        held[0].continue_()
    assert download.value.suggested_filename == f"schet-{order.invoice.display_number}.pdf"
    assert download.value.path().read_bytes()[:5] == b"%PDF-"
    expect(status).to_be_hidden()


def test_a_failed_card_payment_looks_like_an_error(open_page, live_server):
    page = paid_user(open_page, viewport=PHONE)
    open_menu(page)
    page.get_by_test_id("menu-upgrade").click()
    window = page.locator("#window")
    window.get_by_test_id("continue").click()
    window.locator("input[name=payment_method][value=online]").check()
    window.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("sandbox-page")).to_be_visible()
    page.get_by_test_id("sandbox-refuse").click()
    error = page.get_by_test_id("message-error")
    expect(error).to_contain_text("Оплата не прошла")
    assert error.get_attribute("role") == "alert"
    colours = error.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderLeftColor]")
    assert colours == ["rgb(253, 232, 232)", "rgb(180, 35, 24)"]  # red, not the blue of a notice
    shot(page, "payment_failed_error_phone")


def test_staff_offer_form_shows_the_chosen_kinds_fields(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    staff = staff_page(context, live_server)
    organization = Organization.objects.get(inn="7707083893")
    staff.goto(f"{live_server.url}/staff/organizations/{organization.pk}/overview/")
    staff.get_by_text("Сделать предложение").click()
    form = staff.get_by_test_id("offer-form")
    expect(form.locator("#id_addon_exports")).to_be_hidden()
    expect(form.locator("#id_valid_until")).to_be_visible()
    form.locator("input[name=kind][value=addon]").check()
    expect(form.locator("#id_addon_exports")).to_be_visible()
    expect(form.locator("#id_price")).to_be_visible()
    expect(form.locator("#id_tariff")).to_be_hidden()
    expect(form.locator("#id_export_limit")).to_be_hidden()
    shot(staff, "staff_offer_form_addon")
    form.locator("input[name=kind][value=custom]").check()
    expect(form.locator("#id_export_limit")).to_be_visible()
    expect(form.locator("#id_addon_exports")).to_be_hidden()
    shot(staff, "staff_offer_form_custom")
    place_order(organization=organization, user=User.objects.get(email="paid@demo.local"), kind="renew",
                payment_method="invoice", idempotency_key="e2e-staff", tariff=organization.subscriptions.first().tariff)
    staff.goto(f"{live_server.url}/staff/")
    expect(staff.get_by_text("счёт № 2026-")).to_be_visible()
    shot(staff, "staff_dashboard")
    context.close()
