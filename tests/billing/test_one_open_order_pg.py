"""Concurrency on PostgreSQL: two tabs, quick clicks or several clients placing orders
for one organization at once end with one open order; the others are cancelled with
their invoices annulled, and no invoice number is skipped."""

from datetime import timedelta

import pytest
from django.db import connection

from podpiska.billing.actions import place_order, record_payment
from podpiska.billing.models import Invoice, Order, OrderStatus
from podpiska.core import clock
from tests.concurrency import run_threads
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_subscription, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

# What the tabs place: renewal, the picked upgrade, two catalog tariffs; by invoice.
VARIANTS = [("renew", "200"), ("upgrade", "400"), ("switch", "100"), ("switch", "max")]


@pytest.fixture
def frozen():
    clock.freeze(NOW)
    yield
    clock.reset()


def test_different_variants_placed_at_once_leave_one_open_order(frozen):
    tariffs = catalog()
    owner = make_user()
    org = make_org(user=owner)
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300))

    def place(i):
        kind, code = VARIANTS[i % len(VARIANTS)]
        return place_order(organization=org, user=owner, kind=kind, payment_method="invoice",
                           idempotency_key=f"tab-{i}", tariff=tariffs[code])

    _, errors = run_threads(6, place)
    assert not errors, errors
    orders = Order.objects.filter(organization=org)
    assert orders.filter(status=OrderStatus.AWAITING_PAYMENT).count() == 1
    cancelled = orders.filter(status=OrderStatus.CANCELLED)
    assert orders.count() == cancelled.count() + 1
    # Each cancelled order's invoice is annulled and points to its replacement.
    assert all(order.replaced_by_id for order in cancelled)
    assert Invoice.objects.filter(order__in=cancelled, annulled_at__isnull=True).count() == 0
    assert sorted(Invoice.objects.values_list("number", flat=True)) == list(
        range(1, orders.count() + 1)
    )


def test_placing_while_the_open_order_is_being_paid_forms_no_double(frozen):
    """The statement pays the renewal while the customer places an upgrade: whichever
    commits first, the renewal is either paid (and the upgrade stays open) or
    cancelled (and its payment waits for staff) — never both paid and cancelled."""
    tariffs = catalog()
    owner = make_user()
    org = make_org(user=owner)
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    renew = place_order(organization=org, user=owner, kind="renew", payment_method="invoice",
                        idempotency_key="renew", tariff=tariffs["200"])

    def act(i):
        if i == 0:
            return record_payment(source="statement", amount=renew.price, received_at=NOW,
                                  dedup_key="bank-doc", order=renew)
        return place_order(organization=org, user=owner, kind="upgrade", payment_method="invoice",
                           idempotency_key="upgrade", tariff=tariffs["400"])

    _, errors = run_threads(2, act)
    assert not errors, errors
    renew.refresh_from_db()
    upgrade = Order.objects.get(idempotency_key="upgrade")
    assert upgrade.status == OrderStatus.AWAITING_PAYMENT
    if renew.status == OrderStatus.FULFILLED:
        assert renew.cancel_reason == "" and Invoice.objects.get(order=renew).annulled_at is None
    else:
        assert renew.status == OrderStatus.CANCELLED
        assert renew.payments.get().queue_reason == "order_closed"
    assert org.subscriptions.count() == (2 if renew.status == OrderStatus.FULFILLED else 1)
