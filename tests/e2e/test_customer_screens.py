"""Issue 4, item 6: one test per scenario, in a real browser, each with a screenshot."""

import pytest
from playwright.sync_api import expect

from podpiska.accounts.models import Organization, User
from podpiska.billing.actions import place_order, record_payment
from podpiska.billing.models import Order
from podpiska.core import clock
from podpiska.support.models import LimitIncreaseRequest, SupportRequest
from tests.e2e.conftest import PHONE, shot

pytestmark = pytest.mark.e2e


def open_menu(page):
    page.click("#org-menu > summary")
    expect(page.get_by_test_id("org-menu-panel")).to_be_visible()


def work_in(page, organization: str):
    """The paid demo user is in two organizations; pick one in the menu's switcher."""
    if page.locator(".orgmenu-name").inner_text() != organization:
        open_menu(page)
        page.get_by_role("button", name=organization).click()
    expect(page.locator(".orgmenu-name")).to_have_text(organization)


def paid_user(open_page, **kwargs):
    page = open_page("paid@demo.local", **kwargs)
    work_in(page, "ООО «Ромашка»")
    return page


def test_paid_user_renews_by_invoice_and_sees_awaiting_payment(open_page):
    page = paid_user(open_page)
    open_menu(page)
    expect(page.get_by_test_id("menu-tariff")).to_have_text("Компас 200")
    page.get_by_test_id("menu-renew").click()
    window = page.locator("#window")
    expect(window).to_be_visible()
    expect(window.get_by_test_id("variant-period")).to_contain_text("с 07.12.2026 по 06.12.2027")
    window.get_by_test_id("continue").click()
    expect(window.get_by_test_id("checkout-form")).to_be_visible()
    expect(window.locator("input[name=inn]")).to_have_value("7707083893")
    window.get_by_test_id("place-order").dblclick()
    expect(window.get_by_test_id("order-placed")).to_be_visible()
    number = Order.objects.get(organization__inn="7707083893").invoice.display_number
    assert f"Оплата по счёту № {number} от 27.11.2026" in window.get_by_test_id("purpose").input_value()
    expect(window).to_contain_text("до 3 рабочих дней")
    shot(page, "renew_invoice_placed")
    assert Order.objects.filter(organization__inn="7707083893").count() == 1  # a double click: one order
    page.keyboard.press("Escape")
    open_menu(page)
    expect(page.get_by_test_id("pending-order")).to_contain_text("ожидает оплаты")
    expect(page.get_by_test_id("menu-warning")).to_contain_text("Продление ожидает оплаты")
    shot(page, "renew_menu_awaiting_payment")


def test_paid_user_upgrade_starts_after_the_current_end(open_page):
    page = paid_user(open_page)
    open_menu(page)
    page.get_by_test_id("menu-upgrade").click()
    window = page.locator("#window")
    expect(window.get_by_test_id("variant-tariff")).to_have_text("Компас 400")
    expect(window.get_by_test_id("variant-period")).to_contain_text("с 07.12.2026")
    expect(window.get_by_test_id("variant-reason")).to_be_visible()
    shot(page, "upgrade_window")


def test_max_user_has_no_upgrade_and_requests_more_exports(open_page):
    page = open_page("max@demo.local")
    open_menu(page)
    expect(page.get_by_test_id("menu-renew")).to_be_visible()
    expect(page.get_by_test_id("menu-upgrade")).to_have_count(0)
    shot(page, "max_menu")
    page.goto(page.url + "settings/")
    page.fill("#id_extra_exports", "20000")
    page.fill("#id_comment", "Сезонная нагрузка")
    page.get_by_role("button", name="Отправить заявку").click()
    expect(page.get_by_test_id("limit-request-status")).to_contain_text("новая")
    assert LimitIncreaseRequest.objects.get().extra_exports == 20_000
    page.get_by_test_id("limit-increase").scroll_into_view_if_needed()
    shot(page, "max_limit_request")


def test_free_after_paid_user_resumes(open_page):
    page = open_page("expired@demo.local")
    open_menu(page)
    expect(page.get_by_test_id("menu-renew")).to_have_count(0)
    page.get_by_role("link", name="Настройки организации").first.click()
    resume = page.get_by_test_id("resume")
    expect(resume).to_contain_text("Компас 100")
    page.get_by_test_id("resume-button").click()
    window = page.locator("#window")
    expect(window.get_by_test_id("variant-tariff")).to_have_text("Компас 100")
    window.get_by_test_id("continue").click()
    window.get_by_test_id("place-order").click()
    expect(window.get_by_test_id("order-placed")).to_be_visible()
    shot(page, "resume_placed")
    assert Order.objects.get(organization__inn="5402113155").kind == "resume"


def test_never_paid_user_is_offered_tariff_400(open_page):
    page = open_page("free@demo.local")
    page.goto(page.url + "settings/")
    offer = page.get_by_test_id("default-offer")
    expect(offer).to_contain_text("Компас 400")
    expect(offer).to_contain_text("Расширенный набор полей")
    expect(offer).to_contain_text("телефоны")
    shot(page, "never_paid_default_offer")


def test_warning_shows_for_paid_user_and_goes_once_renewal_is_paid(open_page):
    page = paid_user(open_page)
    expect(page.get_by_test_id("warning-dot")).to_be_visible()
    open_menu(page)
    expect(page.get_by_test_id("menu-warning")).to_contain_text(
        "Подписка заканчивается 06.12.2026. Чтобы оплатить счётом вовремя, оплатите до 02.12.2026"
    )
    shot(page, "warning_shown")
    organization = Organization.objects.get(inn="7707083893")
    order = place_order(organization=organization, user=User.objects.get(email="paid@demo.local"),
                        kind="renew", payment_method="invoice", idempotency_key="e2e-renew",
                        tariff=organization.subscriptions.get().tariff)
    # Staff confirm the bank payment by hand.
    record_payment(source="manual", amount=order.price, received_at=clock.now(), dedup_key="e2e-manual-1",
                   order=order, actor=User.objects.get(email="staff@demo.local"))
    page.reload()
    expect(page.get_by_test_id("warning-dot")).to_have_count(0)
    open_menu(page)
    expect(page.get_by_test_id("menu-warning")).to_have_count(0)
    expect(page.get_by_test_id("menu-scheduled")).to_contain_text("Компас 200 с 07.12.2026")
    shot(page, "warning_gone_after_payment")


def test_help_panel_opens_and_files_a_request(open_page):
    page = open_page("free@demo.local")
    page.get_by_test_id("help-button").click()
    panel = page.get_by_test_id("support-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("8 800 500-10-10")
    panel.locator("#support-subject").fill("Вопрос по счёту")
    panel.locator("#support-message").fill("Как оплатить с другого счёта?")
    panel.get_by_role("button", name="Отправить").click()
    expect(panel.get_by_test_id("support-filed")).to_be_visible()
    shot(page, "support_panel")
    assert SupportRequest.objects.get().subject == "Вопрос по счёту"


def test_member_cannot_buy(open_page, live_server):
    page = paid_user(open_page)
    work_in(page, "ИП Орлов П. А.")
    open_menu(page)
    expect(page.get_by_test_id("menu-renew")).to_have_count(0)
    page.goto(f"{live_server.url}/settings/")
    expect(page.get_by_test_id("member-note")).to_be_visible()
    expect(page.get_by_test_id("default-offer-button")).to_have_count(0)
    shot(page, "member_settings")
    response = page.goto(f"{live_server.url}/buy/default_offer/checkout/")
    assert response.status == 403


def test_another_organizations_invoice_is_404(open_page, live_server):
    organization = Organization.objects.get(inn="7810050010")
    order = place_order(organization=organization, user=User.objects.get(email="max@demo.local"),
                        kind="renew", payment_method="invoice", idempotency_key="e2e-max",
                        tariff=organization.subscriptions.get().tariff)
    page = open_page("free@demo.local")
    response = page.goto(f"{live_server.url}/billing/invoices/{order.invoice.pk}/")
    assert response.status == 404
    shot(page, "foreign_invoice_404")


def test_phone_width_menu_and_settings(open_page, live_server):
    page = paid_user(open_page, viewport=PHONE)
    open_menu(page)
    shot(page, "phone_menu")
    page.goto(f"{live_server.url}/settings/")
    shot(page, "phone_settings")
    page.get_by_test_id("settings-renew-button").click()
    page.locator("#window").get_by_test_id("continue").click()
    expect(page.locator("#window").get_by_test_id("checkout-form")).to_be_visible()
    shot(page, "phone_checkout")


def test_window_buttons_work_before_htmx_settles(open_page, live_server):
    """A click on «Продолжить оформление» right after the window opens stays in the window.

    htmx wires swapped content only when it settles; a slow settle makes the gap wide
    enough that a click in it would otherwise leave for the full-page checkout.
    """
    page = paid_user(open_page)
    page.goto(f"{live_server.url}/settings/")
    page.evaluate("htmx.config.defaultSettleDelay = 3000")
    page.get_by_test_id("settings-renew-button").click()
    window = page.locator("#window")
    window.get_by_test_id("continue").click()
    expect(window.get_by_test_id("checkout-form")).to_be_visible(timeout=2000)
    assert page.url == f"{live_server.url}/settings/"


def test_keyboard_only_upgrade_paid_online_in_the_sandbox(open_page, live_server):
    """The menu, the windows and the checkout work from the keyboard; online pays at once."""
    page = paid_user(open_page)
    page.focus("#org-menu > summary")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("org-menu-panel")).to_be_visible()
    page.get_by_test_id("menu-upgrade").focus()
    page.keyboard.press("Enter")
    window = page.locator("#window")
    expect(window.get_by_test_id("variant-tariff")).to_have_text("Компас 400")
    window.get_by_test_id("continue").focus()
    page.keyboard.press("Enter")
    expect(window.get_by_test_id("checkout-form")).to_be_visible()
    window.locator("input[name=payment_method][value=online]").check()
    window.get_by_test_id("place-order").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("sandbox-page")).to_be_visible()
    shot(page, "online_sandbox")
    page.get_by_test_id("sandbox-pay").click()
    page.goto(f"{live_server.url}/settings/")
    expect(page.get_by_test_id("timeline")).to_contain_text("Компас 400")
    expect(page.get_by_test_id("timeline")).to_contain_text("запланирована")
    expect(page.get_by_test_id("settings-scheduled")).to_contain_text("«Компас 400» с 07.12.2026")
    expect(page.get_by_test_id("warning-dot")).to_have_count(0)
    shot(page, "online_paid_settings")


def test_english_screens(open_page, live_server):
    page = paid_user(open_page)
    page.get_by_role("button", name="English").click()
    open_menu(page)
    expect(page.get_by_test_id("menu-renew")).to_have_text("Renew subscription")
    shot(page, "english_menu")
    page.goto(f"{live_server.url}/settings/")
    expect(page.locator("h1")).to_have_text("Organization settings")
    shot(page, "english_settings")
