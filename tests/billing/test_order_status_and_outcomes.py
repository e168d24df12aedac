"""An order's status is read for money in one place (`closed_order_reason`) and a
payment's outcome is named in one list (`Outcome`): settlement, statement matching, the
invoice's state and the back-office messages agree with them."""

from types import SimpleNamespace

import pytest

from podpiska.billing.invoices import InvoiceState, invoice_state
from podpiska.billing.models import (
    Invoice,
    Order,
    OrderKind,
    OrderStatus,
    Outcome,
    QueueReason,
    closed_order_reason,
)
from podpiska.billing.settlement import refusal
from podpiska.billing.statements.matching import InvoiceFacts, match
from podpiska.staff.views import OUTCOME_MESSAGES

PRICE = 100_00
EXPECTED = {
    OrderStatus.AWAITING_PAYMENT: (None, InvoiceState.PAYABLE),
    OrderStatus.PAID: (QueueReason.ALREADY_PAID, InvoiceState.PAID),
    OrderStatus.FULFILLED: (QueueReason.ALREADY_PAID, InvoiceState.PAID),
    OrderStatus.CANCELLED: (QueueReason.ORDER_CLOSED, InvoiceState.VOID),
    OrderStatus.EXPIRED: (QueueReason.ORDER_CLOSED, InvoiceState.VOID),
}


def test_every_status_is_classified():
    assert set(EXPECTED) == set(OrderStatus)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_settlement_matching_and_the_invoice_read_a_status_alike(status):
    reason, shown = EXPECTED[status]
    assert closed_order_reason(status) == reason
    # A full payment of an order in this status.
    assert refusal(status, PRICE, OrderKind.RENEW, PRICE, lambda: True) == reason
    facts = InvoiceFacts(1, 2026, 17, "7707083893", PRICE, 10, status, 5)
    document = SimpleNamespace(purpose="Оплата по счёту № 2026-00017", payer_inn="7707083893", amount=PRICE)
    verdict = match(document, {facts.key: facts})
    assert (verdict.invoice, verdict.reason, verdict.is_full) == (facts, reason or "", reason is None)
    assert invoice_state(Invoice(order=Order(status=status))) == shown


def test_each_refusal_is_an_outcome_and_every_outcome_has_a_staff_message():
    refusals = {
        QueueReason.UNDERPAID, QueueReason.ORDER_CLOSED, QueueReason.ALREADY_PAID,
        QueueReason.NO_SUBSCRIPTION,
    }
    assert refusals | {Outcome.FULFILLED, Outcome.REJECTED} == set(Outcome.ALL)
    assert set(OUTCOME_MESSAGES) == set(Outcome.ALL)
