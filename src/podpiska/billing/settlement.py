"""Applying recorded payments to the orders they pay (SPEC §5): one rule, any number.

`settle(claims, actor=..., at=...)` runs in the caller's transaction. It locks the
orders (in id order, as every path does), decides for each payment whether it fulfils
its order — `refusal` is the one rule — and writes what follows with a fixed number of
statements for the whole batch, not per payment: subscriptions at `max(confirmation,
end of the latest paid)` (chained when one organization pays two orders at once),
add-ons, orders fulfilled, offers accepted, the closing document (УПД) of each fulfilled
order, payments applied or queued with the reason, audit records and notices.

`apply_payment` (staff, online payments, a batch of one) and the statement import
(tens of thousands at once) both come here, so a payment does the same thing whichever
way it arrives.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet

from podpiska.accounts.models import Organization
from podpiska.audit.log import record_many
from podpiska.billing.closing_documents import (
    Fulfilment,
    issue_closing_document,
    issue_closing_documents,
    payment_document,
)
from podpiska.billing.invoices import seller, seller_tz
from podpiska.billing.models import (
    Order,
    OrderKind,
    OrderStatus,
    Outcome,
    Payment,
    PaymentState,
    QueueReason,
    closed_order_reason,
)
from podpiska.catalog.models import IndividualOffer, Tariff, Terms
from podpiska.core import clock
from podpiska.notifications.events import publish_many
from podpiska.subscriptions.actions import PaidTerm, start_subscriptions
from podpiska.subscriptions.quota import add_extra_exports
from podpiska.subscriptions.timeline import current_subscription, last_day


class Claim(NamedTuple):
    """A recorded payment, already linked to the order it pays, and its amount.

    The payment must be queued and locked by the caller's transaction (or written by
    it). `previous` holds, for the audit record, the payment's fields as they were
    before the caller linked it (queue reason, order, organization) when they differ.
    A tuple: a statement makes a hundred thousand of them.
    """

    payment_id: int
    amount: int
    order_id: int
    previous: tuple[tuple[str, object], ...] = ()


@dataclass(slots=True)
class _Order:
    id: int
    organization_id: int
    status: str
    kind: str
    tariff_id: int | None
    offer_id: int | None
    addon_exports: int
    payment_method: str
    requisites: dict = field(repr=False)
    terms: dict = field(repr=False)

    @property
    def price(self) -> int:
        return self.terms["price"]


_ORDER_COLUMNS = (
    "pk", "organization_id", "status", "kind", "tariff_id", "offer_id", "addon_exports",
    "payment_method", "requisites", *Terms.TERM_FIELDS,
)


def refusal(status: str, price: int, kind: str, amount: int, has_subscription) -> str | None:
    """Why a payment of `amount` cannot fulfil an order, or None when it does.

    `has_subscription()` is asked only for an add-on: it needs a subscription in force.
    A payment above the price fulfils the order, which is flagged as overpaid.
    """
    if closed := closed_order_reason(status):
        return closed
    if amount < price:
        return QueueReason.UNDERPAID
    if kind == OrderKind.ADDON and not has_subscription():
        return QueueReason.NO_SUBSCRIPTION
    return None


@dataclass(slots=True)
class Decision:
    """What a batch of claims does: the outcome of each (by payment key), the orders
    they fulfil, and the orders as locked and read (for the notices)."""

    claims: list[Claim]
    outcomes: dict[int, str]
    fulfilled: list[tuple[Claim, _Order]]
    orders: dict[int, _Order]

    def recorded(self, ids: dict[int, int]) -> Decision:
        """This decision for claims made under provisional keys, now recorded under
        `ids` (key → payment id). A claim whose payment was not written (another import
        recorded the same bank document first) is left out: that copy decides."""
        claims = [
            Claim(ids[claim.payment_id], claim.amount, claim.order_id, claim.previous)
            for claim in self.claims
            if claim.payment_id in ids
        ]
        return Decision(
            claims,
            {ids[key]: outcome for key, outcome in self.outcomes.items() if key in ids},
            [
                (Claim(ids[claim.payment_id], claim.amount, claim.order_id), order)
                for claim, order in self.fulfilled
                if claim.payment_id in ids
            ],
            self.orders,
        )


@transaction.atomic
def settle(claims: list[Claim], *, actor=None, at: datetime | None = None) -> dict[int, str]:
    """Apply each claimed (recorded, queued) payment to its order; returns the outcome
    by payment id: Outcome.FULFILLED or the QueueReason it waits for staff with."""
    if not claims:
        return {}
    at = at or clock.now()
    decision = decide(claims, at)
    _resolve_payments(claims, decision.outcomes, at, actor)
    carry_out(decision, actor=actor, at=at)
    return decision.outcomes


def decide(claims: list[Claim], at: datetime) -> Decision:
    """Lock the claimed orders and judge each payment by `refusal`, in payment order.

    Must run in the transaction that then records the outcome (`settle`, or the import,
    which writes new payments in their final state) and calls `carry_out`.
    """
    orders = _lock_orders({claim.order_id for claim in claims})
    outcomes: dict[int, str] = {}
    fulfilled: list[tuple[Claim, _Order]] = []
    for claim in sorted(claims, key=lambda claim: claim.payment_id):
        order = orders[claim.order_id]
        reason = refusal(
            order.status, order.price, order.kind, claim.amount,
            lambda order=order: current_subscription(order.organization_id, at) is not None,
        )
        if reason is None:
            # Paid now: a second payment of this order in the batch finds it paid.
            order.status = OrderStatus.FULFILLED
            fulfilled.append((claim, order))
        outcomes[claim.payment_id] = reason or Outcome.FULFILLED
    return Decision(claims, outcomes, fulfilled, orders)


def carry_out(decision: Decision, *, actor, at: datetime) -> None:
    """Everything a decision changes besides the payments themselves."""
    fulfilled = decision.fulfilled
    subscriptions = _start_subscriptions(
        [order for _, order in fulfilled if order.kind != OrderKind.ADDON], at, actor
    )
    raised = {}
    for _, order in fulfilled:
        if order.kind == OrderKind.ADDON:
            # Rare, and raising a limit is its own careful step: one at a time.
            subscription = current_subscription(order.organization_id, at)
            add_extra_exports(subscription, order.addon_exports, actor=actor, at=at)
            raised[order.id] = subscription.ends_at
    _fulfil_orders(fulfilled, at, actor)
    _issue_closing_documents(fulfilled, subscriptions, raised, at, actor)
    _notify(decision.claims, decision.orders, decision.outcomes, fulfilled, subscriptions)


# --- steps -------------------------------------------------------------------------------


def _lock_orders(ids: set[int]) -> dict[int, _Order]:
    orders: dict[int, _Order] = {}
    term_count = len(Terms.TERM_FIELDS)
    rows = (
        Order.objects.select_for_update()
        .filter(pk__any_of=sorted(ids))
        .order_by("pk")
        .values_list(*_ORDER_COLUMNS)
    )
    for row in rows:
        terms = dict(zip(Terms.TERM_FIELDS, row[-term_count:], strict=True))
        orders[row[0]] = _Order(*row[:-term_count], terms=terms)
    return orders


def _start_subscriptions(orders: list[_Order], at: datetime, actor) -> dict[int, dict]:
    purchases = [
        PaidTerm(order.organization_id, order.tariff_id, order.terms, order.id)
        for order in sorted(orders, key=lambda order: order.id)
    ]
    rows = start_subscriptions(purchases, confirmed_at=at, actor=actor)
    return {row["order_id"]: row for row in rows}


def _fulfil_orders(fulfilled: list[tuple[Claim, _Order]], at: datetime, actor) -> None:
    if not fulfilled:
        return
    ids = sorted(order.id for _, order in fulfilled)
    overpaid = sorted(order.id for claim, order in fulfilled if claim.amount > order.price)
    Order.objects.filter(pk__any_of=ids).update(
        status=OrderStatus.FULFILLED, paid_at=at, fulfilled_at=at
    )
    if overpaid:
        Order.objects.filter(pk__any_of=overpaid).update(overpaid=True)
    offers = sorted({order.offer_id for _, order in fulfilled if order.offer_id})
    if offers:
        IndividualOffer.objects.filter(pk__in=offers).update(
            status=IndividualOffer.Status.ACCEPTED
        )
    record_many(
        "order.fulfilled", Order, ids, actor=actor,
        before_changes={
            "status": OrderStatus.AWAITING_PAYMENT, "paid_at": None, "fulfilled_at": None,
            "overpaid": False,
        },
    )


def _issue_closing_documents(
    fulfilled: list[tuple[Claim, _Order]], subscriptions: dict[int, dict],
    raised: dict[int, datetime], at: datetime, actor,
) -> None:
    """The УПД of every order fulfilled: dated the day its term starts (an add-on: the
    day it is paid), in the organization's calendar, like the period it names."""
    if not fulfilled:
        return
    zones = {
        pk: ZoneInfo(name)
        for pk, name in Organization.objects.filter(
            pk__any_of=sorted({order.organization_id for _, order in fulfilled})
        ).values_list("pk", "timezone")
    }
    items = []
    for claim, order in fulfilled:
        tz = zones[order.organization_id]
        if order.kind == OrderKind.ADDON:
            start, end = at, raised.get(order.id)
        else:
            start, end = subscriptions[order.id]["starts_at"], subscriptions[order.id]["ends_at"]
        items.append(
            Fulfilment(
                order_id=order.id, organization_id=order.organization_id, kind=order.kind,
                terms=order.terms, requisites=order.requisites,
                addon_exports=order.addon_exports, payment_id=claim.payment_id,
                period_start=start.astimezone(tz).date(),
                period_end=last_day(end, tz) if end else None,
            )
        )
    issue_closing_documents(items, seller=seller(), actor=actor, at=at)


def _resolve_payments(
    claims: list[Claim], outcomes: dict[int, str], at: datetime, actor
) -> None:
    """Applied payments leave the queue; the others stay in it with the reason why.
    Audit records are written per group of payments with the same change."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for claim in claims:
        groups[(outcomes[claim.payment_id], claim.previous)].append(claim.payment_id)
    for (outcome, previous), ids in groups.items():
        before = {"state": PaymentState.QUEUED, "queue_reason": "", "resolved_at": None}
        before.update(previous)
        Payment.objects.filter(pk__any_of=sorted(ids)).update(**payment_changes(outcome, at))
        action = "payment.applied" if outcome == Outcome.FULFILLED else "payment.queued"
        record_many(action, Payment, sorted(ids), actor=actor, before_changes=before)


def payment_changes(outcome: str, at: datetime) -> dict:
    """A payment's fields after `outcome`: applied, or queued with the reason."""
    if outcome == Outcome.FULFILLED:
        return {"state": PaymentState.APPLIED, "queue_reason": "", "resolved_at": at}
    return {"state": PaymentState.QUEUED, "queue_reason": outcome}


def queued_event_data(payment_id: int, amount: int, reason: str) -> dict:
    """What the «payment.queued» event says, however the payment came to the queue."""
    return {"payment_id": payment_id, "amount": amount, "reason": reason}


def order_event_data(order, tariff_code: str | None) -> dict:
    """What an event says about an order (an Order or the facts settle reads)."""
    return {
        "order_id": order.pk if isinstance(order, Order) else order.id,
        "kind": order.kind,
        "status": order.status,
        "tariff": tariff_code,
        "tariff_name": order.tariff_name if isinstance(order, Order) else order.terms["tariff_name"],
        "price": order.price,
        "addon_exports": order.addon_exports,
        "payment_method": order.payment_method,
    }


def _notify(claims, orders, outcomes, fulfilled, subscriptions) -> None:
    codes = dict(
        Tariff.objects.filter(
            pk__in={order.tariff_id for _, order in fulfilled if order.tariff_id}
        ).values_list("pk", "code")
    )
    publish_many(
        "subscription.activated",
        [
            (
                order.organization_id,
                {
                    "subscription_id": subscriptions[order.id]["id"],
                    "tariff": codes[order.tariff_id],
                    "starts_at": subscriptions[order.id]["starts_at"].isoformat(),
                    "ends_at": subscriptions[order.id]["ends_at"].isoformat(),
                },
            )
            for _, order in fulfilled
            if order.id in subscriptions
        ],
    )
    publish_many(
        "order.paid",
        [
            (
                order.organization_id,
                {
                    **order_event_data(order, codes.get(order.tariff_id)),
                    "overpaid": claim.amount > order.price,
                },
            )
            for claim, order in fulfilled
        ],
    )
    publish_many(
        "payment.queued",
        [
            (
                orders[claim.order_id].organization_id,
                queued_event_data(claim.payment_id, claim.amount, outcomes[claim.payment_id]),
            )
            for claim in claims
            if outcomes[claim.payment_id] != Outcome.FULFILLED
        ],
    )


# --- one payment -------------------------------------------------------------------------
#
# A payment confirmed by staff, by a card notification or matched from the queue is
# settled by the same rule (`refusal`) with the same writes as a batch, but without the
# batch's machinery (COPY, snapshots built by the database, lookups by arrays): one
# transaction of ten statements or so (tests/billing/test_single_payment_pg.py pins them)
# — the order and its organization locked together, the payment written (unless the
# same bank document is recorded: a condition of the same INSERT) or updated, the
# subscription, the order, the УПД (numbered by the same statement that inserts it), the
# webhook endpoints and the letter's recipients read, then one statement for the audit
# records, the letter and the webhook rows together.


def lock_order(order_id: int) -> Order:
    """The order and its organization, locked (the order's tariff read along)."""
    return (
        Order.objects.select_for_update(of=("self", "organization"))
        .select_related("organization", "tariff")
        .get(pk=order_id)
    )


@dataclass(slots=True)
class Single:
    """One payment to settle against a locked order.

    `payment_id` is None for a payment not written yet: `row` holds its fields and it
    is inserted in its final state (`ON CONFLICT` on the bank document's key: None
    comes back when the same document is already recorded). `same_document`, a
    queryset, finds the same bank document recorded under another key: the insert is
    made only if it finds nothing (one statement, not a lookup before it). `previous`
    holds, for the audit record, the fields of an existing payment as they were before
    it was linked to this order."""

    order: Order
    amount: int
    payment_id: int | None = None
    row: dict | None = None
    same_document: QuerySet | None = None
    previous: dict = field(default_factory=dict)
    # An existing payment's (number, date) for the УПД (`closing_documents.payment_document`).
    document: tuple | None = None


def settle_single(single: Single, *, actor=None, at: datetime | None = None) -> tuple[int | None, str]:
    """Settle one payment; returns (payment id, outcome) — (None, "") for a bank
    document recorded before. Runs in the caller's transaction, which locked the order
    with `lock_order` (and an existing payment after it)."""
    from podpiska.audit.log import PAYMENT_RECORDED_FIELDS, record_row
    from podpiska.audit.models import AuditRecord
    from podpiska.core.bulk import insert_or_nothing
    from podpiska.notifications.events import publish_all

    at = at or clock.now()
    order = single.order
    reason = refusal(
        order.status, order.price, order.kind, single.amount,
        lambda: current_subscription(order.organization_id, at) is not None,
    )
    outcome = reason or Outcome.FULFILLED
    changes = payment_changes(outcome, at)
    links = {"order": order.pk, "organization": order.organization_id}
    before = {"state": PaymentState.QUEUED, "queue_reason": "", "resolved_at": None}
    before.update(single.previous)
    after = {"resolved_at": None, **changes, **links}
    audit: list[tuple[str, str, int, dict | None, dict]] = []
    if single.payment_id is None:
        row = {**single.row, **changes, "order_id": order.pk, "organization_id": order.organization_id}
        payment_id = insert_or_nothing(
            Payment, row, conflict=["dedup_key"], unless=single.same_document
        )
        if payment_id is None:
            return None, ""
        # Recorded, then applied or queued: the trail a payment always has, written at once.
        recorded = {"state": PaymentState.QUEUED, "queue_reason": "", **links}
        audit.append(("payment.recorded", "billing.payment", payment_id, None,
                      {name: recorded[name] for name in PAYMENT_RECORDED_FIELDS}))
    else:
        payment_id = single.payment_id
        relinked = {f"{name}_id": links[name] for name in links if name in single.previous}
        Payment.objects.filter(pk=payment_id).update(**changes, **relinked)
    audit.append((
        "payment.applied" if outcome == Outcome.FULFILLED else "payment.queued", "billing.payment",
        payment_id, before, {name: after[name] for name in before},
    ))
    if outcome == Outcome.FULFILLED:
        if single.document is None:
            row = single.row
            single.document = payment_document(
                payment_id, row.get("doc_number"), row.get("doc_date"),
                row.get("provider_payment_id"), row["received_at"], seller_tz(),
            )
        events = _fulfil_single(order, single.amount, at, audit, actor, payment_id, single.document)
    else:
        events = [("payment.queued", queued_event_data(payment_id, single.amount, outcome))]
    trail = [
        record_row(action, object_type, object_id, organization_id=order.organization_id,
                   actor=actor, before=before_values, after=after_values)
        for action, object_type, object_id, before_values, after_values in audit
    ]
    # The audit records go with the letters and webhook rows: one statement for all.
    publish_all(order.organization, events, along=[(AuditRecord, trail)])
    return payment_id, outcome


def _fulfil_single(
    order: Order, amount: int, at: datetime, audit: list, actor, payment_id: int, document: tuple
) -> list:
    """What fulfilling one order writes (the batch's `carry_out` for one); returns the
    events to publish and adds the audit records to `audit`."""
    from zoneinfo import ZoneInfo

    from podpiska.audit.log import snapshot
    from podpiska.subscriptions.models import Subscription
    from podpiska.subscriptions.timeline import latest_paid_end, term_after

    events = []
    terms = order.terms()
    if order.kind == OrderKind.ADDON:
        # Rare, and raising a limit is its own careful step, as in the batch.
        subscription = current_subscription(order.organization_id, at)
        add_extra_exports(subscription, order.addon_exports, actor=actor, at=at)
        start, end = at, subscription.ends_at
    else:
        # The organization is locked (`lock_order`): the latest end read now stays the latest.
        term = term_after(
            latest_paid_end(order.organization), terms["term_months"], at,
            ZoneInfo(order.organization.timezone),
        )
        subscription = Subscription.objects.create(
            organization_id=order.organization_id, tariff_id=order.tariff_id, order_id=order.pk,
            starts_at=term.starts_at, ends_at=term.ends_at,
            created_at=clock.now(), **terms,
        )
        audit.append(("subscription.created", "subscriptions.subscription", subscription.pk,
                      None, snapshot(subscription)))
        start, end = subscription.starts_at, subscription.ends_at
        events.append((
            "subscription.activated",
            {"subscription_id": subscription.pk, "tariff": order.tariff.code,
             "starts_at": subscription.starts_at.isoformat(),
             "ends_at": subscription.ends_at.isoformat()},
        ))
    overpaid = amount > order.price
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.FULFILLED, paid_at=at, fulfilled_at=at, overpaid=overpaid
    )
    if order.offer_id:
        IndividualOffer.objects.filter(pk=order.offer_id).update(
            status=IndividualOffer.Status.ACCEPTED
        )
    audit.append((
        "order.fulfilled", "billing.order", order.pk,
        {"status": OrderStatus.AWAITING_PAYMENT, "paid_at": None, "fulfilled_at": None,
         "overpaid": False},
        {"status": OrderStatus.FULFILLED, "paid_at": at, "fulfilled_at": at, "overpaid": overpaid},
    ))
    # Its closing document (УПД), dated the day the paid term starts (an add-on: today).
    tz = ZoneInfo(order.organization.timezone)
    closing = issue_closing_document(
        Fulfilment(
            order_id=order.pk, organization_id=order.organization_id, kind=order.kind,
            terms=terms, requisites=order.requisites, addon_exports=order.addon_exports,
            payment_id=payment_id, period_start=start.astimezone(tz).date(),
            period_end=last_day(end, tz) if end else None,
        ),
        document=document, seller=seller(), at=at,
    )
    audit.append(("closing_document.issued", "billing.closingdocument", closing.pk, None,
                  snapshot(closing)))
    order.status = OrderStatus.FULFILLED
    events.append((
        "order.paid",
        {**order_event_data(order, order.tariff.code if order.tariff_id else None),
         "overpaid": overpaid},
    ))
    return events
