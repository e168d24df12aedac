"""At most one unpaid order for a tariff term per organization; another variant
replaces it, cancelling it and annulling its invoice (held by the database)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import (
    REPLACED,
    OrderRefused,
    cancel_order,
    expire_overdue_orders,
    record_payment,
)
from podpiska.billing.invoice_render import render_invoice_html
from podpiska.billing.models import (
    Invoice,
    Order,
    OrderKind,
    OrderStatus,
    PaymentMethod,
    PaymentSource,
    PaymentState,
    QueueReason,
)
from podpiska.catalog.actions import make_offer
from podpiska.notifications.email import send_due
from podpiska.subscriptions.models import Subscription
from tests.conftest import NOW
from tests.factories import make_subscription, make_user


@pytest.fixture
def paid_org(tariffs, org):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300), used=5_000)
    return org


def open_orders(org):
    return list(Order.objects.filter(organization=org, status=OrderStatus.AWAITING_PAYMENT))


def test_another_variant_replaces_the_open_order_and_annuls_its_invoice(
    paid_org, owner, tariffs, order_for, clock
):
    admin = make_user("admin@example.com")
    paid_org.memberships.create(user=admin, role="admin")
    renew = order_for(paid_org, admin, tariff=tariffs["200"])
    renew_invoice = Invoice.objects.get(order=renew)
    send_due(clock.now())
    mail.outbox.clear()

    upgrade = order_for(paid_org, owner, kind=OrderKind.UPGRADE, tariff=tariffs["400"])

    renew.refresh_from_db()
    renew_invoice.refresh_from_db()
    assert open_orders(paid_org) == [upgrade]
    assert (renew.status, renew.cancel_reason, renew.replaced_by_id) == (
        OrderStatus.CANCELLED, REPLACED, upgrade.pk
    )
    assert renew.closed_at == NOW
    # Annulled, not deleted: it keeps its number, and the next invoice takes the next one.
    assert (renew_invoice.annulled_at, renew_invoice.annulment_reason) == (NOW, REPLACED)
    assert renew_invoice.display_number == "2026-00001"
    assert Invoice.objects.get(order=upgrade).display_number == "2026-00002"
    cancelled = AuditRecord.objects.get(action="order.cancelled", object_id=str(renew.pk))
    assert cancelled.actor == owner and cancelled.after["cancel_reason"] == REPLACED
    assert AuditRecord.objects.filter(
        action="invoice.annulled", object_id=str(renew_invoice.pk)
    ).count() == 1
    # The letter goes to whoever ordered the cancelled order (the admin), not to all.
    send_due(clock.now())
    letters = [m for m in mail.outbox if "аннулирован" in m.subject]
    assert [m.to for m in letters] == [["admin@example.com"]]
    assert "Счёт № 2026-00001 от 27.11.2026 аннулирован" in letters[0].body
    assert "вместо него оформлен новый заказ (улучшение, «Компас 400»)" in letters[0].body
    html = render_invoice_html(renew_invoice)
    assert "Аннулирован" in html and "Счёт аннулирован 27.11.2026: Заменён новым заказом." in html
    assert "Назначение платежа" not in html  # nothing invites a payment


def test_the_same_variant_again_shows_the_open_order(paid_org, owner, tariffs, order_for):
    first = order_for(paid_org, owner, tariff=tariffs["200"], key="tab-1")
    second = order_for(paid_org, owner, tariff=tariffs["200"], key="tab-2")
    assert first.pk == second.pk
    assert Order.objects.count() == 1 and Invoice.objects.count() == 1
    assert not AuditRecord.objects.filter(action="order.cancelled").exists()


def test_an_addon_does_not_replace_the_term_order(tariffs, org, owner, order_for, clock):
    make_subscription(org, tariffs["max"], NOW - timedelta(days=30))
    renew = order_for(org, owner, tariff=tariffs["max"])
    offer = make_offer(
        organization=org, staff_user=None, valid_until=NOW.date() + timedelta(days=10),
        addon_exports=5_000, price=1_000_00,
    )
    addon = order_for(org, owner, kind=OrderKind.ADDON, offer=offer)
    assert {o.pk for o in open_orders(org)} == {renew.pk, addon.pk}


def test_the_database_refuses_a_second_open_term_order(paid_org, owner, tariffs, order_for):
    renew = order_for(paid_org, owner, tariff=tariffs["200"])
    fields = {
        field: getattr(renew, field)
        for field in ("organization", "kind", "tariff", "requisites", "payment_method", "created_at",
                      "tariff_name", "price", "export_limit", "term_months", "field_set",
                      "limit_reset")
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(**fields, idempotency_key="bypassing-the-action")
    # Closed orders and add-ons are outside the rule.
    Order.objects.create(**{**fields, "status": OrderStatus.CANCELLED}, idempotency_key="closed")
    Order.objects.create(**{**fields, "kind": OrderKind.ADDON}, idempotency_key="addon")


def test_customer_cancel_annuls_and_is_idempotent(paid_org, owner, tariffs, order_for, clock):
    order = order_for(paid_org, owner, tariff=tariffs["200"])
    cancel_order(order, actor=owner)
    cancel_order(order, actor=owner)
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "Отменён покупателем")
    assert Invoice.objects.get(order=order).annulled_at == NOW
    assert AuditRecord.objects.filter(action="order.cancelled").count() == 1
    assert AuditRecord.objects.filter(action="invoice.annulled").count() == 1
    send_due(clock.now())
    assert len([m for m in mail.outbox if "аннулирован" in m.subject]) == 1


def test_a_paid_order_cannot_be_cancelled(paid_org, owner, tariffs, order_for, clock):
    order = order_for(paid_org, owner, tariff=tariffs["200"])
    record_payment(source=PaymentSource.MANUAL, amount=order.price, received_at=NOW,
                   dedup_key="paid", order=order, actor=owner)
    with pytest.raises(OrderRefused, match="только неоплаченный"):
        cancel_order(order, actor=owner)
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED and order.cancel_reason == ""
    assert Invoice.objects.get(order=order).annulled_at is None
    assert not AuditRecord.objects.filter(action="order.cancelled").exists()


@pytest.mark.parametrize("close", ["cancel", "expire"])
def test_a_later_payment_for_a_closed_order_is_recorded_and_queued(
    paid_org, owner, tariffs, order_for, clock, close
):
    order = order_for(paid_org, owner, tariff=tariffs["200"])
    if close == "cancel":
        cancel_order(order, actor=owner)
    else:
        clock.shift(timedelta(days=30))
        assert expire_overdue_orders(clock.now()) == 1
    before = Subscription.objects.count()
    for source in (PaymentSource.STATEMENT, PaymentSource.ONLINE):
        payment, created = record_payment(
            source=source, amount=order.price, received_at=clock.now(),
            dedup_key=f"late-{source}", order=order,
        )
        assert created
        assert (payment.state, payment.queue_reason) == (PaymentState.QUEUED, QueueReason.ORDER_CLOSED)
    assert Subscription.objects.count() == before  # never a second subscription
    order.refresh_from_db()
    assert order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


def test_online_order_is_replaced_too(paid_org, owner, tariffs, order_for):
    online = order_for(paid_org, owner, tariff=tariffs["200"], method=PaymentMethod.ONLINE)
    invoice_order = order_for(paid_org, owner, tariff=tariffs["200"])
    online.refresh_from_db()
    assert online.status == OrderStatus.CANCELLED and online.replaced_by_id == invoice_order.pk
    assert open_orders(paid_org) == [invoice_order]
