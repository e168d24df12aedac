"""`settle`: the one rule for what a payment does, for one payment or a batch."""

from datetime import timedelta

import pytest
from django.db import connection

from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import record_payment
from podpiska.billing.models import (
    Order,
    OrderKind,
    OrderStatus,
    Outcome,
    Payment,
    PaymentState,
    QueueReason,
)
from podpiska.billing.settlement import Claim, refusal, settle
from podpiska.billing.statements.importer import import_statement
from podpiska.subscriptions.models import Subscription
from tests import factories
from tests.billing.statements.test_import import payment, statement
from tests.concurrency import run_threads
from tests.conftest import NOW

PRICE = 100_00


@pytest.mark.parametrize(
    ("status", "amount", "kind", "has_subscription", "expected"),
    [
        (OrderStatus.AWAITING_PAYMENT, PRICE, OrderKind.RENEW, False, None),
        (OrderStatus.AWAITING_PAYMENT, PRICE + 1, OrderKind.RENEW, False, None),
        (OrderStatus.AWAITING_PAYMENT, PRICE - 1, OrderKind.RENEW, False, QueueReason.UNDERPAID),
        (OrderStatus.FULFILLED, PRICE, OrderKind.RENEW, False, QueueReason.ALREADY_PAID),
        (OrderStatus.PAID, PRICE, OrderKind.RENEW, False, QueueReason.ALREADY_PAID),
        (OrderStatus.CANCELLED, PRICE, OrderKind.RENEW, False, QueueReason.ORDER_CLOSED),
        (OrderStatus.EXPIRED, PRICE, OrderKind.RENEW, False, QueueReason.ORDER_CLOSED),
        (OrderStatus.AWAITING_PAYMENT, PRICE, OrderKind.ADDON, False, QueueReason.NO_SUBSCRIPTION),
        (OrderStatus.AWAITING_PAYMENT, PRICE, OrderKind.ADDON, True, None),
    ],
)
def test_refusal_is_the_rule(status, amount, kind, has_subscription, expected):
    assert refusal(status, PRICE, kind, amount, lambda: has_subscription) == expected


def _queued_payment(order, key: str, amount: int | None = None) -> Payment:
    return Payment.objects.create(
        source="statement", amount=amount or order.price, received_at=NOW, dedup_key=key,
        order=order, organization=order.organization, created_at=NOW,
    )


def test_two_payments_of_one_order_in_one_batch_fulfil_it_once(clock, tariffs, order_for):
    owner = factories.make_user()
    org = factories.make_org(user=owner)
    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    first, second = (_queued_payment(order, key) for key in ("a", "b"))
    outcomes = settle([Claim(p.pk, p.amount, order.pk) for p in (second, first)])
    assert outcomes == {first.pk: Outcome.FULFILLED, second.pk: QueueReason.ALREADY_PAID}
    assert Subscription.objects.filter(organization=org).count() == 1
    second.refresh_from_db()
    assert (second.state, second.queue_reason) == (PaymentState.QUEUED, QueueReason.ALREADY_PAID)
    assert AuditRecord.objects.filter(action="payment.queued", object_id=str(second.pk)).exists()


def test_a_batch_paying_a_replaced_renewal_and_its_upgrade_forms_one_subscription(
    clock, tariffs, order_for
):
    """The statement pays both invoices of the renewal and the upgrade that replaced it:
    the upgrade follows the current subscription, the renewal's money waits for staff."""
    owner = factories.make_user()
    org = factories.make_org(user=owner)
    current = factories.make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    renew = order_for(org, owner, kind=OrderKind.RENEW, tariff=tariffs["200"])
    upgrade = order_for(org, owner, kind=OrderKind.UPGRADE, tariff=tariffs["400"])
    payments = [_queued_payment(order, f"k{order.pk}") for order in (renew, upgrade)]
    outcomes = settle([Claim(p.pk, p.amount, p.order_id) for p in payments])
    assert outcomes == {payments[0].pk: QueueReason.ORDER_CLOSED, payments[1].pk: Outcome.FULFILLED}
    [paid] = Subscription.objects.filter(order__isnull=False)
    assert (paid.order_id, paid.starts_at) == (upgrade.pk, current.ends_at)
    assert dict(Order.objects.values_list("pk", "status")) == {
        renew.pk: OrderStatus.CANCELLED, upgrade.pk: OrderStatus.FULFILLED,
    }


def test_an_overpayment_fulfils_and_flags_the_order(clock, tariffs, order_for):
    owner = factories.make_user()
    org = factories.make_org(user=owner)
    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    paid = _queued_payment(order, "over", amount=order.price + 1)
    assert settle([Claim(paid.pk, paid.amount, order.pk)]) == {paid.pk: Outcome.FULFILLED}
    order.refresh_from_db()
    assert (order.status, order.overpaid) == (OrderStatus.FULFILLED, True)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_an_import_and_a_confirmation_of_one_order_at_once_form_one_subscription():
    from podpiska.billing.actions import place_order
    from podpiska.core import clock

    clock.freeze(NOW)
    try:
        tariffs = factories.catalog()
        owner = factories.make_user()
        org = factories.make_org(user=owner)
        order = place_order(organization=org, user=owner, kind="default_offer",
                            payment_method="invoice", idempotency_key="k", tariff=tariffs["400"])
        data = statement([payment(order)])

        def act(i):
            if i == 0:
                return import_statement(data, file_name="s.txt")
            return record_payment(source="manual", amount=order.price, received_at=NOW,
                                  dedup_key="manual-1", order=order)

        _, errors = run_threads(2, act)
        assert not errors, errors
        assert Subscription.objects.filter(organization=org).count() == 1
        assert Payment.objects.filter(state=PaymentState.APPLIED).count() == 1
        late = Payment.objects.get(state=PaymentState.QUEUED)
        assert late.queue_reason == QueueReason.ALREADY_PAID
        assert Order.objects.get().status == OrderStatus.FULFILLED
    finally:
        clock.reset()
