"""An invoice prints the term and its rule (`planned_term`, the rule fulfilment
applies); once paid, the invoice, the order page and the letter state the real period."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from podpiska.billing.actions import place_order, record_payment
from podpiska.billing.invoice_render import render_invoice_html
from podpiska.billing.models import Invoice, OrderStatus, PaymentSource
from podpiska.notifications.email import send_due
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import last_day
from tests.conftest import NOW
from tests.factories import make_subscription, start_subscription

RULE = "— после окончания текущей подписки; при оплате позже — со дня зачисления оплаты"


def renew(org, owner, tariff):
    order = place_order(organization=org, user=owner, kind="renew", payment_method="invoice",
                        idempotency_key="renew", tariff=tariff)
    return order, Invoice.objects.get(order=order)


def pay(order, clock):
    payment, _ = record_payment(source=PaymentSource.STATEMENT, amount=order.price,
                                received_at=clock.now(), dedup_key=f"doc-{order.pk}", order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    return Subscription.objects.get(order=order)


def states_the_period(order, invoice, subscription, client):
    tz = order.organization.tz
    first = subscription.starts_at.astimezone(tz).date()
    period = f"с {first:%d.%m.%Y} по {last_day(subscription.ends_at, tz):%d.%m.%Y} включительно"
    invoice.refresh_from_db()
    assert f"Подписка действует {period}" in render_invoice_html(invoice)
    send_due(subscription.created_at)
    [letter] = [m for m in mail.outbox if m.subject.startswith("Оплата получена")]
    assert f"действует {period}" in letter.body
    assert period in client.get(reverse("web:order", args=[order.pk])).content.decode()


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def test_paid_late_starts_on_the_day_of_payment(tariffs, org, owner, clock, signed_in):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=355),
                      ends_at=NOW.replace(hour=0) + timedelta(days=3))
    order, invoice = renew(org, owner, tariffs["200"])
    assert invoice.line == f"Доступ к сервису, тариф «Компас 200», 12 мес., с 30.11.2026 {RULE}"
    clock.shift(timedelta(days=7))  # the current subscription ended on 29.11
    subscription = pay(order, clock)
    assert subscription.starts_at == clock.now()
    states_the_period(order, invoice, subscription, signed_in)
    assert "с 04.12.2026 по 04.12.2027 включительно" in render_invoice_html(invoice)


def test_paid_after_another_term_was_formed_ahead_of_it(tariffs, org, owner, clock, signed_in):
    current = make_subscription(org, tariffs["200"], NOW - timedelta(days=355),
                                ends_at=NOW.replace(hour=0) + timedelta(days=3))
    order, invoice = renew(org, owner, tariffs["200"])
    assert "с 30.11.2026 —" in invoice.line
    ahead = start_subscription(organization=org, tariff=tariffs["400"], terms=tariffs["400"].terms(),
                               confirmed_at=clock.now())
    assert ahead.starts_at == current.ends_at
    subscription = pay(order, clock)
    assert subscription.starts_at == ahead.ends_at  # after it, as the rule said
    states_the_period(order, invoice, subscription, signed_in)
    assert "с 30.11.2027 по 29.11.2028 включительно" in render_invoice_html(invoice)


def test_lapsed_organization_starts_when_paid(tariffs, org, owner, clock, signed_in):
    make_subscription(org, tariffs["100"], NOW - timedelta(days=400), ends_at=NOW - timedelta(days=30))
    order = place_order(organization=org, user=owner, kind="resume", payment_method="invoice",
                        idempotency_key="resume", tariff=tariffs["100"])
    invoice = Invoice.objects.get(order=order)
    assert invoice.line == "Доступ к сервису, тариф «Компас 100», 12 мес. со дня зачисления оплаты"
    clock.shift(timedelta(days=3, hours=2))
    subscription = pay(order, clock)
    assert subscription.starts_at == clock.now()
    states_the_period(order, invoice, subscription, signed_in)
    assert "с 30.11.2026 по 30.11.2027 включительно" in render_invoice_html(invoice)
