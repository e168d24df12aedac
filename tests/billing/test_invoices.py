from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from podpiska.audit.models import AuditRecord
from podpiska.billing.invoices import issue_invoice, payment_purpose
from podpiska.billing.models import Invoice, InvoiceCounter, Order, OrderKind, PaymentMethod
from podpiska.core.money import vat_inside
from podpiska.notifications.models import WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.conftest import NOW

MSK = ZoneInfo("Europe/Moscow")
pytestmark = pytest.mark.django_db


def make_order(org, tariff, *, kind=OrderKind.RENEW, key=None, **over) -> Order:
    fields = {
        **tariff.terms(),
        "organization": org,
        "kind": kind,
        "tariff": tariff,
        "requisites": org.requisites(),
        "payment_method": PaymentMethod.INVOICE,
        "idempotency_key": key or f"k-{Order.objects.count() + 1}",
        "created_at": NOW,
        "pay_by": date(2026, 12, 11),
        **over,
    }
    return Order.objects.create(**fields)


def test_numbers_are_sequential_within_a_year(clock, tariffs, org):
    # One open term order per organization: three organizations, one numbering.
    invoices = [issue_invoice(make_order(factories.make_org(), tariffs["400"])) for _ in range(3)]
    assert [(i.year, i.number) for i in invoices] == [(2026, 1), (2026, 2), (2026, 3)]
    assert [i.display_number for i in invoices] == ["2026-00001", "2026-00002", "2026-00003"]
    assert InvoiceCounter.objects.get(year=2026).last_number == 3


def test_numbering_restarts_on_new_year_in_moscow(clock, tariffs, org):
    clock.freeze(datetime(2026, 12, 31, 23, 30, tzinfo=MSK))
    last_of_2026 = issue_invoice(make_order(org, tariffs["400"]))
    # 31.12 21:30 UTC is already 01.01.2027 00:30 in Moscow: the new year's numbering.
    clock.freeze(datetime(2026, 12, 31, 21, 30, tzinfo=ZoneInfo("UTC")))
    first_of_2027 = issue_invoice(make_order(factories.make_org(), tariffs["400"]))
    second_of_2027 = issue_invoice(make_order(factories.make_org(), tariffs["400"]))
    assert last_of_2026.display_number == "2026-00001"
    assert last_of_2026.issued_on == date(2026, 12, 31)
    assert first_of_2027.display_number == "2027-00001"
    assert first_of_2027.issued_on == date(2027, 1, 1)
    assert second_of_2027.display_number == "2027-00002"


def test_issue_is_idempotent(clock, tariffs, org):
    order = make_order(org, tariffs["400"])
    first = issue_invoice(order)
    again = issue_invoice(Order.objects.get(pk=order.pk))
    assert again.pk == first.pk
    assert Invoice.objects.count() == 1
    assert InvoiceCounter.objects.get(year=2026).last_number == 1


def test_rolled_back_order_leaves_no_gap(clock, tariffs, org):
    issue_invoice(make_order(org, tariffs["400"]))
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            issue_invoice(make_order(factories.make_org(), tariffs["400"], key="rolled-back"))
            raise RuntimeError("payment form failed")
    assert issue_invoice(make_order(factories.make_org(), tariffs["400"])).number == 2


def test_invoice_freezes_seller_buyer_line_and_vat(clock, tariffs, org, owner, settings):
    order = make_order(org, tariffs["400"], created_by=owner)
    invoice = issue_invoice(order)
    assert invoice.seller == settings.PODPISKA_SELLER
    assert invoice.buyer["inn"] == org.inn and invoice.buyer["kpp"] == org.kpp
    # Nothing paid runs: the term starts on the day the payment is credited.
    assert invoice.line == "Доступ к сервису, тариф «Компас 400», 12 мес. со дня зачисления оплаты"
    assert invoice.total == tariffs["400"].price
    assert invoice.vat_rate == 22
    assert invoice.vat_amount == vat_inside(invoice.total, 22)
    assert invoice.issued_on == date(2026, 11, 27)
    assert invoice.pay_by == date(2026, 12, 11)
    # Later edits of the organization do not change an issued invoice.
    org.name = "Другое имя"
    org.save()
    invoice.refresh_from_db()
    assert invoice.buyer["name"] != "Другое имя"
    audit = AuditRecord.objects.get(action="invoice.issued")
    assert audit.object_id == str(invoice.pk) and audit.actor == owner


def test_renewal_line_starts_after_the_paid_period(clock, tariffs, org):
    factories.make_subscription(org, tariffs["200"], datetime(2026, 1, 10, tzinfo=MSK))
    invoice = issue_invoice(make_order(org, tariffs["200"]))
    assert invoice.line == (
        "Доступ к сервису, тариф «Компас 200», 12 мес., с 10.01.2027 — после окончания текущей "
        "подписки; при оплате позже — со дня зачисления оплаты"
    )


def test_addon_line(clock, tariffs, org):
    order = make_order(org, tariffs["400"], kind=OrderKind.ADDON, addon_exports=5000, price=1500000)
    invoice = issue_invoice(order)
    assert invoice.line == "Дополнительные выгрузки: +5\u00a0000 к текущей подписке"
    assert payment_purpose(invoice) == (
        "Оплата по счёту № 2026-00001 от 27.11.2026 за дополнительные выгрузки (+5 000). "
        "В т. ч. НДС (22 %) 2 704,92 руб."
    )


def test_payment_purpose_with_vat(clock, tariffs, org):
    invoice = issue_invoice(make_order(org, tariffs["400"], price=321600_00))
    assert invoice.vat_amount == 57993_44
    assert payment_purpose(invoice) == (
        "Оплата по счёту № 2026-00001 от 27.11.2026 за доступ к сервису, тариф «Компас 400». "
        "В т. ч. НДС (22 %) 57 993,44 руб."
    )


def test_without_vat(clock, tariffs, org, settings):
    settings.PODPISKA_SELLER = {**settings.PODPISKA_SELLER, "vat_rate": None}
    invoice = issue_invoice(make_order(org, tariffs["400"]))
    assert invoice.vat_rate is None and invoice.vat_amount == 0
    assert payment_purpose(invoice).endswith("тариф «Компас 400». Без НДС")


def test_payment_purpose_fits_the_bank_field_and_keeps_the_number(clock, tariffs, org):
    order = make_order(org, tariffs["400"], tariff_name="Индивидуальный " + "очень длинный " * 12)
    invoice = issue_invoice(order)
    purpose = payment_purpose(invoice)
    assert len(purpose) == 210
    assert "№ 2026-00001 от 27.11.2026" in purpose
    assert purpose.endswith("…». В т. ч. НДС (22 %) " + purpose.rsplit(") ", 1)[1])


def test_invoice_issued_event_goes_to_the_outbox(clock, tariffs, org):
    WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/hook", secret="s", events=["invoice.issued"], created_at=NOW
    )
    invoice = issue_invoice(make_order(org, tariffs["400"]))
    delivery = WebhookDelivery.objects.get(event="invoice.issued")
    assert delivery.payload["data"]["number"] == invoice.display_number


def test_place_order_by_bank_transfer_issues_one_invoice(clock, tariffs, org, owner, order_for):
    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    again = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    assert again.pk == order.pk
    invoice = Invoice.objects.get(order=order)
    assert invoice.display_number == "2026-00001"
    assert invoice.pay_by == order.pay_by
    assert invoice.buyer == order.requisites
    assert InvoiceCounter.objects.get(year=2026).last_number == 1


def test_online_order_gets_no_invoice(clock, tariffs, org, owner, order_for):
    order_for(
        org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"], method=PaymentMethod.ONLINE
    )
    assert not Invoice.objects.exists()
    assert not InvoiceCounter.objects.filter(last_number__gt=0).exists()


def test_addon_offer_invoice(clock, tariffs, org, owner, order_for):
    from podpiska.catalog.actions import make_offer

    factories.make_subscription(org, tariffs["200"], NOW - timedelta(days=30))
    offer = make_offer(
        organization=org,
        staff_user=factories.make_user(is_staff=True),
        valid_until=date(2026, 12, 31),
        addon_exports=2000,
        price=20_000_00,
    )
    invoice = Invoice.objects.get(order=order_for(org, owner, offer=offer))
    assert invoice.line == "Дополнительные выгрузки: +2\u00a0000 к текущей подписке"
    assert invoice.total == 20_000_00 and invoice.vat_amount == 3606_56


def test_renewal_invoice_names_the_day_to_pay_for_no_break(db, clock, tariffs, org, owner):
    from datetime import date, timedelta

    from podpiska.billing.actions import place_order
    from podpiska.billing.invoice_render import continuity_pay_by, render_invoice_html
    from podpiska.subscriptions.timeline import local_midnight
    from tests.conftest import NOW
    from tests.factories import make_subscription

    end = local_midnight(date(2026, 12, 8), org.tz)  # last day 07.12.2026, a Monday
    make_subscription(org, tariffs["200"], end - timedelta(days=365), ends_at=end)
    order = place_order(organization=org, user=owner, kind="renew", payment_method="invoice",
                        idempotency_key="r", tariff=tariffs["200"])
    assert continuity_pay_by(order.invoice) == date(2026, 12, 2)
    assert "без перерыва, оплатите до 02.12.2026" in render_invoice_html(order.invoice)
    assert NOW.date() <= date(2026, 12, 2)


def test_no_continuity_line_for_an_organization_without_coverage(db, clock, tariffs, org, owner):
    from podpiska.billing.actions import place_order
    from podpiska.billing.invoice_render import continuity_pay_by

    order = place_order(organization=org, user=owner, kind="default_offer", payment_method="invoice",
                        idempotency_key="d", tariff=tariffs["400"])
    assert continuity_pay_by(order.invoice) is None
