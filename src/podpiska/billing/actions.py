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
from django.utils.translation import gettext as _

from podpiska.accounts.actions import update_requisites
from podpiska.accounts.models import Membership, Organization
from podpiska.audit.changes import ALL, audited_create, audited_update
from podpiska.audit.log import PAYMENT_RECORDED_FIELDS
from podpiska.billing.closing_documents import payment_document
from podpiska.billing.invoices import seller_tz
from podpiska.billing.models import (
    Order,
    OrderKind,
    OrderStatus,
    Outcome,
    Payment,
    PaymentMethod,
    PaymentSource,
    PaymentState,
    QueueReason,
)
from podpiska.billing.settlement import (
    Single,
    lock_order,
    order_event_data,
    payment_changes,
    queued_event_data,
    settle_single,
)
from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.core import clock, limits
from podpiska.core.business_days import add_business_days
from podpiska.core.money import format_amount
from podpiska.notifications.events import publish
from podpiska.subscriptions.availability import Actions, available_actions
from podpiska.subscriptions.timeline import current_subscription


class OrderRefused(Exception):
    """An order that cannot be placed; the message is for the customer."""


@dataclass(frozen=True)
class Purchase:
    """What an order buys, resolved and checked against what the organization may buy."""

    kind: str
    tariff: Tariff | None
    terms: dict
    addon_exports: int = 0
    offer: IndividualOffer | None = None


def resolve_purchase(
    organization: Organization, kind: str, tariff, offer, at: datetime, actions: Actions | None = None
) -> Purchase:
    """Refuse anything this organization is not offered right now (SPEC §10).

    `actions`: what `available_actions` answered for this organization in this request
    (the checkout that showed the choice); read here when not given.
    """
    if offer is not None:
        if offer.organization_id != organization.pk:
            raise OrderRefused(_("Предложение не найдено."))
        today = at.astimezone(organization.tz).date()
        if offer.status != IndividualOffer.Status.OPEN or offer.valid_until < today:
            raise OrderRefused(_("Срок действия предложения истёк или оно уже оплачено."))
        if offer.kind == IndividualOffer.Kind.ADDON:
            current = actions.current if actions is not None else current_subscription(organization, at)
            if current is None:
                raise OrderRefused(_("Докупить выгрузки можно только к действующей подписке."))
            return Purchase(OrderKind.ADDON, None, offer.terms(), offer.addon_exports, offer)
        if offer.tariff is None:
            raise OrderRefused(_("Предложение оформлено без тарифа; обратитесь в поддержку."))
        return Purchase(OrderKind.OFFER, offer.tariff, offer.terms(), 0, offer)

    if kind not in {OrderKind.RENEW, OrderKind.UPGRADE, OrderKind.SWITCH, OrderKind.RESUME,
                    OrderKind.DEFAULT_OFFER}:
        raise OrderRefused(_("Неизвестный вид заказа."))
    if tariff is None:
        raise OrderRefused(_("Выберите тариф."))
    if tariff.is_archived:
        raise OrderRefused(_("Тариф «%(name)s» больше не продаётся.") % {"name": tariff.name})
    if tariff.is_free:
        raise OrderRefused(_("Бесплатный тариф не нужно оплачивать."))
    actions = actions if actions is not None else available_actions(organization, at)
    if actions.variant_of(kind, tariff.code) is None:
        raise OrderRefused(_("Этот вариант сейчас недоступен для вашей организации."))
    return Purchase(kind, tariff, tariff.terms())


def _can_buy(user, organization) -> bool:
    return Membership.objects.managers().filter(user=user, organization=organization).exists()


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
    actions: Actions | None = None,
) -> Order:
    """Place an order; a repeated idempotency key returns the order placed the first time.

    Bank-transfer orders get their invoice in the same transaction. `actions`: what
    `available_actions` answered for this organization in this request, when the caller
    has it (the checkout): the purchase is checked against it instead of reading it again.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise OrderRefused(_("Форма устарела: обновите страницу и попробуйте ещё раз."))
    existing = Order.objects.filter(organization=organization, idempotency_key=key).first()
    if existing is not None:
        return existing
    if not _can_buy(user, organization):
        raise OrderRefused(_("Оформлять покупки могут владелец и администраторы организации."))
    if payment_method not in PaymentMethod.values:
        raise OrderRefused(_("Выберите способ оплаты: счёт или онлайн."))
    now = clock.now()
    purchase = resolve_purchase(organization, kind, tariff, offer, now, actions)
    # A concurrent placement for the same organization that commits first makes this
    # insert fail on `one_open_term_order_per_organization`; run again, and that order
    # is then found open and replaced (or returned, when it is the same purchase). Each
    # round one of the racing placements commits, so this many placements at once (far
    # more than tabs and double clicks make) all get through.
    for attempt in range(PLACE_ATTEMPTS):
        try:
            return _place(organization, user, purchase, payment_method, key, requisites, now)
        except IntegrityError:
            existing = Order.objects.filter(organization=organization, idempotency_key=key).first()
            if existing is not None:
                # The same form posted twice at once: the other request placed it.
                return existing
            if attempt == PLACE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


PLACE_ATTEMPTS = 10


def _place(organization, user, purchase: Purchase, payment_method: str, key: str,
           requisites: dict | None, now: datetime) -> Order:
    with transaction.atomic():
        # The open order is locked before the organization (requisites) and before
        # anything else, the order settlement takes its locks in.
        open_order = open_term_order(organization, lock=True) if purchase.kind != OrderKind.ADDON else None
        if requisites is not None:
            organization = update_requisites(organization, requisites, actor=user)
        pending = same_pending_order(organization, purchase, payment_method)
        if pending is not None:
            return pending
        if open_order is not None:
            # Cancel first: the partial unique index admits the new order only then.
            _cancel(open_order, actor=user, reason=REPLACED, at=now)
        order = audited_create(
            Order, "order.placed", user,
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
        publish("order.created", organization=organization, data=order_data(order))
        if open_order is not None:
            Order.objects.filter(pk=open_order.pk).update(replaced_by=order)
            _notify_cancelled(open_order, replaced_by=order)
        if payment_method == PaymentMethod.INVOICE:
            from podpiska.billing.invoices import issue_invoice

            issue_invoice(order)
    return order


def open_term_order(organization, *, lock: bool = False) -> Order | None:
    """The organization's unpaid order for a tariff term (at most one: the database
    holds to it), or None. Add-ons are apart: they buy more of the current term."""
    orders = Order.objects.filter(
        organization=organization, status=OrderStatus.AWAITING_PAYMENT
    ).exclude(kind=OrderKind.ADDON)
    if lock:
        orders = orders.select_for_update()
    return orders.first()


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


# Why an order was cancelled, as the customer reads it in the letter and on the invoice.
REPLACED = "Заменён новым заказом"
CANCELLED_BY_CUSTOMER = "Отменён покупателем"
CANCELLED_BY_STAFF = "Отменён сотрудником продавца"


def cancel_order(order: Order, *, actor, reason: str = CANCELLED_BY_CUSTOMER) -> Order:
    """Cancel an unpaid order: its invoice is annulled, whoever ordered it gets a letter.

    Cancelling a cancelled order again changes nothing; a paid or expired one is refused.
    A payment that still arrives for it is recorded and queued for staff (`refusal`).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == OrderStatus.CANCELLED:
            return order
        if order.status != OrderStatus.AWAITING_PAYMENT:
            raise OrderRefused(_("Отменить можно только неоплаченный заказ."))
        _cancel(order, actor=actor, reason=reason, at=clock.now())
        _notify_cancelled(order)
    return order


def _cancel(order: Order, *, actor, reason: str, at: datetime) -> None:
    """The writes of a cancellation; `order` is locked and unpaid."""
    audited_update(order, "order.cancelled", actor, recorded=ALL,
                   status=OrderStatus.CANCELLED, closed_at=at, cancel_reason=reason[:500])
    annul_order_documents(order, actor=actor, reason=reason, at=at)


def annul_order_documents(order: Order, *, actor, reason: str, at: datetime) -> None:
    """Every document issued for a cancelled order is annulled here, in its transaction:
    the invoice and, for an order annulled after it was paid, its УПД. Nothing is deleted."""
    from podpiska.billing.closing_documents import annul_for_order
    from podpiska.billing.invoices import annul_invoice

    annul_invoice(order, actor=actor, reason=reason, at=at)
    annul_for_order(order, reason=reason, actor=actor)


def _notify_cancelled(order: Order, *, replaced_by: Order | None = None) -> None:
    data = order_data(order)
    data["reason"] = order.cancel_reason
    data["ordered_by"] = order.created_by_id  # the letter goes to whoever ordered it
    if replaced_by is not None:
        data["replaced_by"] = replaced_by.pk
    publish("order.cancelled", organization=order.organization, data=data)


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
    same_document=None,
    **document_fields,
) -> tuple[Payment, bool]:
    """Record money received, once per `dedup_key`; apply it when the order is known.

    Returns (payment, created). A repeat (same bank document, same provider payment)
    returns the payment recorded the first time and credits nothing again.
    `same_document`, a queryset asked once the order is locked (by the INSERT itself),
    finds payments that are this one under another key (the same bank document brought
    by a statement), first recorded first.
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
            locked = lock_order(order.pk)
            single = Single(locked, amount, row=row, same_document=same_document)
            payment_id, outcome = settle_single(single, actor=actor, at=at)
        if payment_id is None:
            # Not written: the same bank document is recorded, under another key or this one.
            same = same_document.first() if same_document is not None else None
            return same or Payment.objects.get(dedup_key=dedup_key), False
        final = {**row, **payment_changes(outcome, at),
                 "order_id": order.pk, "organization_id": single.order.organization_id}
        return Payment(pk=payment_id, **final), True
    existing = Payment.objects.filter(dedup_key=dedup_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            payment = audited_create(
                Payment, "payment.recorded", actor, recorded=PAYMENT_RECORDED_FIELDS,
                **row, organization=organization,
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

    The same document (order, date, number, amount: `bank_documents.identity`) is one
    payment whichever way it came first: entered twice, or entered after a statement
    brought it, the first record is returned and nothing is credited; a statement that
    brings it later counts it as a duplicate. A copy that differs (another number, say)
    cannot fulfil twice: the order is paid, so it waits in the queue as «заказ уже
    оплачен».
    """
    doc_number = (doc_number or "").strip()
    if not doc_number:
        raise PaymentInvalid("doc_number", _("Укажите номер платёжного документа."))
    if not isinstance(amount, int) or amount <= 0:
        raise PaymentInvalid("amount", _("Сумма должна быть больше нуля."))
    if amount > limits.MAX_AMOUNT:
        raise PaymentInvalid(
            "amount", _("Сумма не больше %(max)s ₽.") % {"max": format_amount(limits.MAX_AMOUNT, " ")}
        )
    now = clock.now()
    tz = order.organization.tz
    today = now.astimezone(tz).date()
    if doc_date > today:
        raise PaymentInvalid("doc_date", _("Дата платежа не может быть в будущем."))
    if doc_date < limits.EARLIEST_BANK_DATE:
        # Year 1 would be stored as 1 BC and break every page that lists the payment.
        raise PaymentInvalid(
            "doc_date",
            _("Дата платежа не раньше %(day)s.") % {"day": f"{limits.EARLIEST_BANK_DATE:%d.%m.%Y}"},
        )
    from podpiska.billing.bank_documents import recorded
    from podpiska.subscriptions.timeline import local_midnight

    # Asked under the order's lock, which orders this check after any import or entry
    # paying the same order (they lock it too): a document arriving both ways is seen.
    return record_payment(
        source=PaymentSource.MANUAL,
        amount=amount,
        received_at=now if doc_date == today else local_midnight(doc_date, tz),
        dedup_key=f"manual:{order.pk}:{doc_date:%Y%m%d}:{doc_number}:{amount}",
        order=order,
        actor=actor,
        same_document=recorded(order.pk, doc_date, doc_number, amount),
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
    document = payment_document(payment.pk, payment.doc_number, payment.doc_date,
                                payment.provider_payment_id, payment.received_at, seller_tz())
    single = Single(order, payment.amount, payment_id=payment.pk, previous=previous,
                    document=document)
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
        raise PaymentRefused(_("Отклонить можно только платёж из очереди разбора: этот уже зачтён."))
    if not note:
        raise PaymentRefused(_("Напишите, почему платёж не наш: без пояснения его не отклонить."))
    audited_update(payment, "payment.rejected", actor, recorded=ALL,
                   state=PaymentState.REJECTED,
                   note=f"{payment.note}\n{note}" if payment.note else note,
                   resolved_at=clock.now())
    return payment
