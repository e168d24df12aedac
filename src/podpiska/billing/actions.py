"""Orders and payments (SPEC §5): place an order, record money, fulfil.

Each function is one transaction with its audit record and events. A payment is
recorded first and applied second, so money is never lost: whatever cannot be applied
(underpaid, order closed, no match) stays recorded and waits for staff.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from podpiska.accounts.actions import update_requisites
from podpiska.accounts.models import Membership, Organization
from podpiska.audit.log import PAYMENT_RECORDED_FIELDS, record, snapshot
from podpiska.billing.models import (
    Order,
    OrderKind,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentSource,
    PaymentState,
    QueueReason,
)
from podpiska.billing.settlement import (
    FULFILLED,
    Single,
    lock_order,
    order_event_data,
    payment_changes,
    queued_event_data,
    settle_single,
)
from podpiska.catalog.availability import available_actions
from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.core import clock
from podpiska.core.business_days import add_business_days
from podpiska.notifications.events import publish
from podpiska.subscriptions.timeline import current_subscription


class OrderRefused(Exception):
    """An order that cannot be placed; the message is for the customer."""


class Outcome:
    FULFILLED = FULFILLED
    UNDERPAID = "underpaid"
    ORDER_CLOSED = "order_closed"
    ALREADY_PAID = "already_paid"
    NO_SUBSCRIPTION = "no_subscription"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Purchase:
    """What an order buys, resolved and checked against what the organization may buy."""

    kind: str
    tariff: Tariff | None
    terms: dict
    addon_exports: int = 0
    offer: IndividualOffer | None = None


def resolve_purchase(organization: Organization, kind: str, tariff, offer, at: datetime) -> Purchase:
    """Refuse anything this organization is not offered right now (SPEC §10)."""
    if offer is not None:
        if offer.organization_id != organization.pk:
            raise OrderRefused("Предложение не найдено.")
        today = at.astimezone(organization.tz).date()
        if offer.status != IndividualOffer.Status.OPEN or offer.valid_until < today:
            raise OrderRefused("Срок действия предложения истёк или оно уже оплачено.")
        if offer.kind == IndividualOffer.Kind.ADDON:
            if current_subscription(organization, at) is None:
                raise OrderRefused("Докупить выгрузки можно только к действующей подписке.")
            return Purchase(OrderKind.ADDON, None, offer.terms(), offer.addon_exports, offer)
        if offer.tariff is None:
            raise OrderRefused("Предложение оформлено без тарифа; обратитесь в поддержку.")
        return Purchase(OrderKind.OFFER, offer.tariff, offer.terms(), 0, offer)

    if kind not in {OrderKind.RENEW, OrderKind.UPGRADE, OrderKind.SWITCH, OrderKind.RESUME,
                    OrderKind.DEFAULT_OFFER}:
        raise OrderRefused("Неизвестный вид заказа.")
    if tariff is None:
        raise OrderRefused("Выберите тариф.")
    if tariff.is_archived:
        raise OrderRefused(f"Тариф «{tariff.name}» больше не продаётся.")
    if tariff.is_free:
        raise OrderRefused("Бесплатный тариф не нужно оплачивать.")
    if available_actions(organization, at).variant_of(kind, tariff.code) is None:
        raise OrderRefused("Этот вариант сейчас недоступен для вашей организации.")
    return Purchase(kind, tariff, tariff.terms())


def _can_buy(user, organization) -> bool:
    return Membership.objects.filter(
        user=user, organization=organization, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
    ).exists()


def place_order(
    *,
    organization: Organization,
    user,
    kind: str,
    payment_method: str,
    idempotency_key: str,
    tariff: Tariff | None = None,
    offer: IndividualOffer | None = None,
    requisites: dict | None = None,
) -> Order:
    """Place an order; a repeated idempotency key returns the order placed the first time.

    Bank-transfer orders get their invoice in the same transaction.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise OrderRefused("Форма устарела: обновите страницу и попробуйте ещё раз.")
    existing = Order.objects.filter(organization=organization, idempotency_key=key).first()
    if existing is not None:
        return existing
    if not _can_buy(user, organization):
        raise OrderRefused("Оформлять покупки могут владелец и администраторы организации.")
    if payment_method not in PaymentMethod.values:
        raise OrderRefused("Выберите способ оплаты: счёт или онлайн.")
    now = clock.now()
    purchase = resolve_purchase(organization, kind, tariff, offer, now)
    try:
        with transaction.atomic():
            if requisites is not None:
                organization = update_requisites(organization, requisites, actor=user)
            pending = same_pending_order(organization, purchase, payment_method)
            if pending is not None:
                return pending
            order = Order.objects.create(
                organization=organization,
                kind=purchase.kind,
                tariff=purchase.tariff,
                offer=purchase.offer,
                addon_exports=purchase.addon_exports,
                requisites=organization.requisites(),
                payment_method=payment_method,
                idempotency_key=key,
                created_by=user,
                created_at=now,
                pay_by=add_business_days(
                    now.astimezone(organization.tz).date(),
                    settings.PODPISKA["ORDER_EXPIRY_BUSINESS_DAYS"],
                ),
                **purchase.terms,
            )
            record("order.placed", order, actor=user, after=snapshot(order))
            publish("order.created", organization=organization, data=order_data(order))
            if payment_method == PaymentMethod.INVOICE:
                from podpiska.billing.invoices import issue_invoice

                issue_invoice(order)
    except IntegrityError:
        # The same form posted twice at once: the other request placed it.
        existing = Order.objects.filter(organization=organization, idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return order


def same_pending_order(organization, purchase: Purchase, payment_method: str) -> Order | None:
    """An unpaid order for the same thing, by the same method and with the same
    requisites: «Продлить» clicked again shows that order and its invoice instead of
    issuing a second invoice for the same period."""
    candidates = Order.objects.filter(
        organization=organization,
        status=OrderStatus.AWAITING_PAYMENT,
        kind=purchase.kind,
        tariff=purchase.tariff,
        offer=purchase.offer,
        payment_method=payment_method,
    ).order_by("-created_at")
    requisites = organization.requisites()
    return next((o for o in candidates if o.requisites == requisites), None)


def order_data(order: Order) -> dict:
    return order_event_data(order, order.tariff.code if order.tariff_id else None)


@transaction.atomic
def cancel_order(order: Order, *, actor) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        if order.status == OrderStatus.CANCELLED:
            return order
        raise OrderRefused("Отменить можно только неоплаченный заказ.")
    before = snapshot(order)
    order.status = OrderStatus.CANCELLED
    order.closed_at = clock.now()
    order.save(update_fields=["status", "closed_at"])
    record("order.cancelled", order, actor=actor, before=before, after=snapshot(order))
    return order


def expire_overdue_orders(at: datetime) -> int:
    """Unpaid orders past their pay-by date expire (a later payment still gets recorded).

    One conditional UPDATE for all of them and their audit records in one statement:
    the candidates are read from the index of unpaid orders up to the latest local
    date anywhere, the exact local day of each organization is checked here, and the
    UPDATE expires only what is still unpaid (a payment confirmed meanwhile wins).
    """
    from zoneinfo import ZoneInfo

    from django.db import connection

    from podpiska.audit.log import record_many
    from podpiska.core.lookups import array_literal

    # No time zone is more than a day ahead of UTC.
    latest_local_today = at.astimezone(UTC).date() + timedelta(days=1)
    overdue = sorted(
        pk
        for pk, pay_by, zone in Order.objects.filter(
            status=OrderStatus.AWAITING_PAYMENT, pay_by__lt=latest_local_today
        ).values_list("pk", "pay_by", "organization__timezone")
        if pay_by < at.astimezone(ZoneInfo(zone)).date()
    )
    if not overdue:
        return 0
    table = connection.ops.quote_name(Order._meta.db_table)
    if connection.vendor == "postgresql":
        ids_sql, ids_param = "SELECT unnest(%s::bigint[])", array_literal(overdue)
    else:
        ids_sql, ids_param = "SELECT value FROM json_each(%s)", json.dumps(overdue)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, closed_at = %s "
                f"WHERE id IN ({ids_sql}) AND status = %s RETURNING id",
                [
                    OrderStatus.EXPIRED, connection.ops.adapt_datetimefield_value(at), ids_param,
                    OrderStatus.AWAITING_PAYMENT,
                ],
            )
            expired = sorted(pk for (pk,) in cursor.fetchall())
        record_many(
            "order.expired", Order, expired,
            before_changes={"status": OrderStatus.AWAITING_PAYMENT, "closed_at": None},
        )
    return len(expired)


def record_payment(
    *,
    source: str,
    amount: int,
    received_at: datetime,
    dedup_key: str,
    order: Order | None = None,
    organization: Organization | None = None,
    actor=None,
    statement=None,
    queue_reason: str = QueueReason.NO_MATCH,
    suggestions=(),
    **document_fields,
) -> tuple[Payment, bool]:
    """Record money received, once per `dedup_key`; apply it when the order is known.

    Returns (payment, created). A repeat (same bank document, same provider payment)
    returns the payment recorded the first time and credits nothing again.
    """
    if not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive number of kopecks")
    row = dict(
        source=source,
        amount=amount,
        received_at=received_at,
        dedup_key=dedup_key,
        statement_id=getattr(statement, "pk", None),
        state=PaymentState.QUEUED,
        queue_reason="" if order else queue_reason,
        suggestions=list(suggestions),
        created_by_id=actor.pk if getattr(actor, "pk", None) else None,
        created_at=clock.now(),
        **document_fields,
    )
    if order is not None:
        # One transaction: the order locked, the payment written in its final state by
        # `ON CONFLICT` on its key (a repeat writes nothing), the settlement's writes.
        at = clock.now()
        with transaction.atomic():
            single = Single(lock_order(order.pk), amount, row=row)
            payment_id, outcome = settle_single(single, actor=actor, at=at)
        if payment_id is None:
            return Payment.objects.get(dedup_key=dedup_key), False
        final = {**row, **payment_changes(outcome, at),
                 "order_id": order.pk, "organization_id": single.order.organization_id}
        return Payment(pk=payment_id, **final), True
    existing = Payment.objects.filter(dedup_key=dedup_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                **row, organization=organization,
            )
            record(
                "payment.recorded", payment, actor=actor,
                after=snapshot(payment, PAYMENT_RECORDED_FIELDS),
            )
            publish_queued(payment)
    except IntegrityError:
        return Payment.objects.get(dedup_key=dedup_key), False
    return payment, True


class PaymentInvalid(Exception):
    """A manual payment with bad data: which field, and a message for the staff user."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def confirm_manual_payment(
    *, order: Order, amount: int, doc_number: str, doc_date, payer_inn: str = "", note: str = "", actor
) -> tuple[Payment, bool]:
    """Staff confirm a bank payment by hand: the same path as a statement import.

    The same document entered twice (order, date, number, amount) is one payment, and
    a statement that brings it later counts it as a duplicate (the importer compares
    the same four). A copy that differs (another number, say) cannot fulfil twice:
    the order is paid, so it waits in the queue as «заказ уже оплачен».
    """
    doc_number = (doc_number or "").strip()
    if not doc_number:
        raise PaymentInvalid("doc_number", "Укажите номер платёжного документа.")
    if not isinstance(amount, int) or amount <= 0:
        raise PaymentInvalid("amount", "Сумма должна быть больше нуля.")
    now = clock.now()
    tz = order.organization.tz
    today = now.astimezone(tz).date()
    if doc_date > today:
        raise PaymentInvalid("doc_date", "Дата платежа не может быть в будущем.")
    from podpiska.subscriptions.timeline import local_midnight

    return record_payment(
        source=PaymentSource.MANUAL,
        amount=amount,
        received_at=now if doc_date == today else local_midnight(doc_date, tz),
        dedup_key=f"manual:{order.pk}:{doc_date:%Y%m%d}:{doc_number}:{amount}",
        order=order,
        actor=actor,
        doc_number=doc_number,
        doc_date=doc_date,
        payer_inn=(payer_inn or "").strip(),
        payer_name=order.requisites.get("name", ""),
        note=note,
    )


def publish_queued(payment: Payment) -> None:
    if payment.organization_id:
        publish(
            "payment.queued",
            organization=payment.organization,
            data=queued_event_data(payment.pk, payment.amount, payment.queue_reason),
        )


@transaction.atomic
def apply_payment(payment: Payment, order: Order, *, actor=None) -> str:
    """Apply a recorded payment to an order, fulfilling it when it is paid in full.

    Locks the order (with its organization), then the payment — the order first, as
    `settle` and the import do — so concurrent confirmations fulfil once; the rule and
    the writes are the settlement's.
    """
    order = lock_order(order.pk)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.state == PaymentState.APPLIED:
        return Outcome.FULFILLED if payment.order_id == order.pk else Outcome.ALREADY_PAID
    if payment.state == PaymentState.REJECTED:
        # Staff ruled it «не наш платёж» (checked under the lock: a concurrent
        # «Зачесть» cannot apply it after the rejection committed).
        return Outcome.REJECTED
    previous = {"queue_reason": payment.queue_reason}
    if (payment.order_id, payment.organization_id) != (order.pk, order.organization_id):
        previous.update(order=payment.order_id, organization=payment.organization_id)
    single = Single(order, payment.amount, payment_id=payment.pk, previous=previous)
    return settle_single(single, actor=actor)[1]


class PaymentRefused(Exception):
    """A payment change that cannot be made; the message is for the staff user."""


@transaction.atomic
def reject_payment(payment: Payment, *, actor, note: str) -> Payment:
    """«Не наш платёж»: take a queued payment out of the queue, with the reason why.

    The money stays recorded (returning it is done at the bank); a rejected payment is
    never applied. Rejecting it again changes nothing.
    """
    note = (note or "").strip()
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.state == PaymentState.REJECTED:
        return payment
    if payment.state != PaymentState.QUEUED:
        raise PaymentRefused("Отклонить можно только платёж из очереди разбора: этот уже зачтён.")
    if not note:
        raise PaymentRefused("Напишите, почему платёж не наш: без пояснения его не отклонить.")
    before = snapshot(payment)
    payment.state = PaymentState.REJECTED
    payment.note = f"{payment.note}\n{note}" if payment.note else note
    payment.resolved_at = clock.now()
    payment.save(update_fields=["state", "note", "resolved_at"])
    record("payment.rejected", payment, actor=actor, before=before, after=snapshot(payment))
    return payment
