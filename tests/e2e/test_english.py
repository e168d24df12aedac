"""English everywhere: every customer page and every staff page, with English picked,
shows no interface text in Cyrillic.

What may stay Cyrillic is whitelisted by where it comes from, not by what it says:
- data stored in the database (organization, tariff and people's names, addresses,
  payment purposes, audit payloads...) and the directory's reference classifiers
  (regions, OKVED), all collected from their source below;
- the invoice itself, a Russian legal form, and the payment purpose the bank reads: the
  page marks them `lang="ru"`, as it marks the «Русский» button of the switcher (an
  element in another language, for screen readers too).
Everything else — text, hidden dialogs, aria-labels, titles, placeholders, button
values, messages for scripts — must be English.
"""

import re
from urllib.parse import urljoin

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.timezone import localdate
from playwright.sync_api import expect

from podpiska.accounts.models import Organization, User
from podpiska.billing.actions import confirm_manual_payment, place_order
from podpiska.billing.models import ClosingDocument, Order
from podpiska.core import clock
from podpiska.demo.reference import OKVED, REGIONS
from podpiska.staff.site import staff_site
from podpiska.support.actions import file_limit_increase_request, file_support_request
from tests.e2e.conftest import PHONE, shot, staff_page

pytestmark = pytest.mark.e2e

CYRILLIC = re.compile(r"[\u0400-\u04FF]")

# Every text node and user-facing attribute of the page (hidden ones included: dialogs,
# the closed menu), except inside an element that declares another language.
COLLECT = """() => {
  const foreign = el => {
    const declared = el.closest('[lang]');
    return (declared && !declared.getAttribute('lang').startsWith('en')) || el.closest('[translate=no]');
  };
  const out = [];
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, noscript') || foreign(el)) continue;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('*')) {
    if (foreign(el)) continue;
    for (const attr of el.attributes) {
      const name = attr.name;
      const shown = ['aria-label', 'title', 'placeholder', 'alt', 'aria-description'].includes(name)
        || name.startsWith('data-') && !name.startsWith('data-testid')
        || (name === 'value' && el.matches('input[type=submit], input[type=button], input[type=reset]'));
      if (shown && attr.value.trim()) out.push(attr.value.trim());
    }
  }
  return out;
}"""


def stored_data() -> list[str]:
    """Every string with Cyrillic stored in the project's tables, plus the reference
    classifiers the directory shows; longest first, so a name is removed before a part."""
    found: set[str] = set()

    def collect(value):
        if isinstance(value, str):
            if CYRILLIC.search(value):
                # As stored, and as a page shows it: line by line, spaces collapsed.
                for part in [value, *value.splitlines()]:
                    found.update({part.strip(), " ".join(part.split())} - {""})
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list | tuple):
            for item in value:
                collect(item)

    for model in apps.get_models():  # Django's own tables too: permission and group names
        fields = [
            f.attname for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField) and not f.choices
        ]
        if fields:
            for row in model.objects.values_list(*fields):
                collect(list(row))
    collect([region.name for region in REGIONS])
    collect(list(OKVED.values()))
    collect(settings.PODPISKA_SELLER)
    return sorted(found, key=len, reverse=True)


def interface_cyrillic(page, data: list[str]) -> list[str]:
    leftovers = []
    for text in page.evaluate(COLLECT):
        if not CYRILLIC.search(text):
            continue
        rest = text
        for value in data:
            if value in rest:
                rest = rest.replace(value, " ")
        if CYRILLIC.search(rest):
            leftovers.append(text)
    return leftovers


class Walk:
    """Visit pages in one browser tab and collect the Cyrillic interface text of each."""

    def __init__(self, page, base_url: str, *, data: list[str] | None = None, problems: dict | None = None):
        self.page = page
        self.base_url = base_url
        self.data = stored_data() if data is None else data
        self.seen: set[str] = set()
        self.problems: dict[str, list[str]] = {} if problems is None else problems

    def visit(self, path: str, *, name: str | None = None) -> bool:
        url = urljoin(self.base_url, path)
        if url in self.seen:
            return False
        self.seen.add(url)
        response = self.page.goto(url)
        assert response is not None and response.status < 500, f"{url}: {response and response.status}"
        self.check(name)
        return True

    def check(self, name: str | None = None):
        url = self.page.url
        assert self.page.locator("html").get_attribute("lang") == "en", url
        found = interface_cyrillic(self.page, self.data)
        if found:
            self.problems[url] = found
        if name:
            shot(self.page, f"english_{name}")

    def links(self, selector: str, pattern: str) -> list[str]:
        hrefs = self.page.eval_on_selector_all(
            selector, "els => els.map(el => el.getAttribute('href') || el.getAttribute('hx-get'))"
        )
        return sorted({h for h in hrefs if h and re.search(pattern, h)})

    def assert_clean(self):
        report = "\n".join(f"{url}:\n  " + "\n  ".join(texts) for url, texts in self.problems.items())
        assert not self.problems, "Cyrillic interface text with English active:\n" + report


def choose_english(page):
    page.locator("footer button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def customer_pages(walk: Walk, *, shots: str | None = None):
    """Home, settings (and every window and checkout offered there), requisites,
    profile, the directory, and every invoice and order page the settings link to."""
    walk.visit("/", name=shots and f"{shots}_home")
    walk.visit("/settings/", name=shots and f"{shots}_settings")
    windows = walk.links("a[href*='/buy/'], a[hx-get*='/buy/']", r"/buy/")
    invoices = walk.links("a[href*='/billing/invoices/']", r"/billing/invoices/\d+/$")
    orders = walk.links("a[href*='/orders/']", r"/orders/\d+/$")
    for window in windows:
        if walk.visit(window):
            for checkout in walk.links("a[href*='/checkout/']", r"/checkout/"):
                walk.visit(checkout)
    for invoice in invoices:
        walk.visit(invoice, name=shots and f"{shots}_invoice")
    for order in orders:
        walk.visit(order, name=shots and f"{shots}_order")
    walk.visit("/settings/requisites/")
    walk.visit("/profile/", name=shots and f"{shots}_profile")
    walk.visit("/directory/", name=shots and f"{shots}_directory")
    walk.visit("/directory/?q=%D0%A0%D0%BE%D0%BC%D0%B0%D1%88%D0%BA%D0%B0")


def seed_something_on_every_page():
    """An invoice to pay, a support request and a limit request to answer."""
    paid = User.objects.get(email="paid@demo.local")
    romashka = Organization.objects.get(short_name="ООО «Ромашка»")
    tariff = romashka.subscriptions.latest("starts_at").tariff
    place_order(organization=romashka, user=paid, kind="renew", payment_method="invoice",
                idempotency_key="e2e-en-invoice", tariff=tariff)
    file_support_request(user=paid, organization=romashka, subject="Вопрос", message="Как выгрузить?")
    file_limit_increase_request(
        user=User.objects.get(email="max@demo.local"),
        organization=Organization.objects.get(short_name="АО «Северный ветер»"),
        extra_exports=20_000, comment="Сезон",
    )


def test_every_customer_page_in_english(open_page, live_server):
    seed_something_on_every_page()
    problems: dict[str, list[str]] = {}
    data = stored_data()
    visited = 0
    for email in ("paid@demo.local", "max@demo.local", "expired@demo.local", "free@demo.local"):
        page = open_page(email)
        choose_english(page)
        walk = Walk(page, live_server.url, data=data, problems=problems)
        customer_pages(walk, shots=email.split("@")[0])
        visited += len(walk.seen)
        if email == "paid@demo.local":
            # Refused input: the messages come from the validators, in English too.
            page.goto(f"{live_server.url}/settings/requisites/")
            page.fill("input[name=inn]", "12345")
            page.fill("input[name=email]", "not-an-address")
            page.get_by_test_id("requisites-form").locator("button[type=submit]").click()
            expect(page.get_by_text("INN must have 10 or 12 digits, not 5")).to_be_visible()
            expect(page.get_by_text("E-mail for documents: invalid address")).to_be_visible()
            walk.check("requisites_errors")
            # The seeded renewal has its own page, linked from the orders table.
            assert any("/orders/" in url for url in walk.seen), sorted(walk.seen)
            # ...and every term window shows it first, with what buying another does to it.
            page.goto(f"{live_server.url}/buy/upgrade/")
            window = page.locator("#main")
            expect(window.get_by_test_id("open-order")).to_be_visible()
            expect(window.get_by_test_id("replace-note")).to_be_visible()
            walk.check("open_order_window")
            # The directory asks to confirm an export of much of what remains.
            page.goto(f"{live_server.url}/directory/?confirm_rows=500&file_format=xlsx&key=e2e-en-confirm")
            expect(page.get_by_test_id("export-confirm")).to_be_visible()
            walk.check("directory_confirm_export")
            # An address that leads nowhere: the error page, with its way back.
            walk.visit("/no-such-page/", name="not_found")
            expect(page.locator("h1")).to_have_text("Page not found")
        if email == "expired@demo.local":
            # The subscription ended: home says so and offers to resume or hide the notice.
            page.goto(f"{live_server.url}/")
            expect(page.get_by_test_id("home-lapsed")).to_be_visible()
            walk.check("lapsed_home")
    # Home, settings, requisites, profile, directory, every window, checkout and invoice.
    assert visited >= 30, visited

    # The paid user in the organization where they are a member only, on a phone.
    page = open_page("paid@demo.local", viewport=PHONE)
    page.click("#org-menu > summary")
    page.get_by_role("button", name="ИП Орлов П. А.").click()
    walk = Walk(page, live_server.url, data=data, problems=problems)
    walk.visit("/settings/", name="member_phone_settings")

    # An order placed by invoice: the window that gives the invoice and its purpose.
    page = open_page("free@demo.local")
    walk = Walk(page, live_server.url, data=data, problems=problems)
    walk.visit("/buy/default_offer/checkout/?tariff=400")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("order-placed")).to_be_visible()
    walk.data = data = stored_data()  # the new order's frozen requisites and purpose
    walk.check("order_placed")

    # A failed card payment: the sandbox page and the message after it.
    page = open_page("expired@demo.local")
    walk = Walk(page, live_server.url, data=data, problems=problems)
    page.goto(f"{live_server.url}/settings/")
    page.get_by_test_id("resume").locator("a").first.click()
    page.get_by_test_id("continue").click()
    page.locator("input[name=payment_method][value=online]").check()
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/billing/sandbox/"))
    walk.check("sandbox")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(re.compile(r"/settings/|/billing/online/return/"))
    walk.check("payment_failed")

    walk.assert_clean()


def test_signed_out_pages_in_english(browser, live_server, demo):
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    choose_english(page)
    walk = Walk(page, live_server.url)
    walk.check("login")
    page.fill("input[name=username]", "paid@demo.local")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    walk.check()
    context.close()
    walk.assert_clean()


def pay_the_seeded_renewal() -> ClosingDocument:
    """Staff credit the seeded renewal by hand: its УПД fills the closing-documents pages."""
    renewal = Order.objects.get(organization__short_name="ООО «Ромашка»", status="awaiting_payment")
    confirm_manual_payment(order=renewal, amount=renewal.price, doc_number="e2e-en-1",
                           doc_date=localdate(clock.now()), actor=User.objects.get(email="staff@demo.local"))
    return ClosingDocument.objects.get(order=renewal)


def test_every_staff_page_in_english(browser, live_server, demo):
    seed_something_on_every_page()
    document = pay_the_seeded_renewal()
    context = browser.new_context(locale="ru-RU")
    page = staff_page(context, live_server)
    page.get_by_test_id("staff-language-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    walk = Walk(page, live_server.url)
    walk.check("staff_dashboard")

    fixed = ["/staff/payments/queue/", "/staff/payments/confirm/", "/staff/statements/upload/",
             "/staff/tariffs/", "/staff/tariffs/new/", "/staff/clock/"]
    for path in fixed:
        walk.visit(path, name="staff_" + path.strip("/").replace("/", "_"))
    walk.visit("/staff/tariffs/")
    for tariff in walk.links("a[href*='/staff/tariffs/']", r"/tariffs/\d+/edit/$"):
        walk.visit(tariff)
    # The month's closing documents, with the annul form of each.
    walk.visit(f"/staff/closing-documents/?month={document.issued_on:%Y-%m}", name="staff_closing_documents")
    expect(page.get_by_test_id(f"upd-{document.pk}")).to_contain_text("valid")
    walk.visit("/staff/closing-documents/?month=2020-01", name=None)
    expect(page.get_by_text("No UPDs for this month.")).to_be_visible()
    # Refused input in a back-office form.
    page.goto(f"{live_server.url}/staff/payments/confirm/")
    # Past the browser's own checks, to the server's messages.
    page.eval_on_selector_all("[required]", "els => els.forEach(el => el.removeAttribute('required'))")
    page.get_by_role("button", name="Credit the payment").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    walk.check("staff_payment_errors")
    answers = []
    for organization in Organization.objects.all():
        walk.visit(f"/staff/organizations/{organization.pk}/overview/", name=None)
        answers += walk.links("a[href*='/limit-requests/']", r"/limit-requests/\d+/answer/$")
    assert answers, "the seeded limit request is answered from its organization's overview"
    for answer in answers:
        walk.visit(answer, name="staff_limit_answer")
    # Every model of the back-office: its list, one record and the «add» form.
    for model, model_admin in staff_site._registry.items():
        meta = model._meta
        base = f"/staff/{meta.app_label}/{meta.model_name}/"
        walk.visit(base)
        first = model.objects.order_by("pk").first()
        if first is not None:
            walk.visit(f"{base}{first.pk}/change/")
        if model_admin.has_add_permission(_request_for(User.objects.get(email="staff@demo.local"))):
            walk.visit(f"{base}add/")
    context.close()
    assert len(walk.seen) >= 40, len(walk.seen)
    walk.assert_clean()


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/staff/")
    request.user = user
    return request
