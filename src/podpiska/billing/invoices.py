"""Invoices for bank-transfer orders (SPEC §5): numbering, frozen content, payment purpose.

An invoice is a document the customer pays by: once issued, nothing on it changes —
the seller's and buyer's requisites, the line and the amounts are copied onto the row.
Numbers are sequential per calendar year (in the seller's time zone) with no gap and no
repeat: the next number is taken from the year's `InvoiceCounter` row under a row lock
inside the caller's transaction, so a rolled-back order gives its number back.
"""

from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from podpiska.audit.changes import audited_update
from podpiska.audit.log import record, snapshot
from podpiska.billing.models import (
    Invoice,
    InvoiceCounter,
    Order,
    OrderKind,
    QueueReason,
    closed_order_reason,
)
from podpiska.billing.numbering import locked_counter
from podpiska.core import clock
from podpiska.core.money import format_amount, group_thousands, vat_inside
from podpiska.notifications.events import publish
from podpiska.subscriptions.timeline import last_day, planned_term

# A bank's «НазначениеПлатежа» holds at most this many characters (REFERENCE.md).
PURPOSE_MAX_LENGTH = 210


def seller() -> dict:
    """The seller's requisites as configured (settings.PODPISKA_SELLER)."""
    return dict(settings.PODPISKA_SELLER)


def seller_tz() -> ZoneInfo:
    """Invoice dates and the numbering year follow the seller's (Moscow) calendar."""
    return ZoneInfo(settings.TIME_ZONE)


def seller_today() -> date:
    return clock.now().astimezone(seller_tz()).date()


def invoice_line(order: Order) -> str:
    """The invoice's one line: what is paid for, the term and its rule.

    The start comes from `planned_term` — `term_after`, the rule fulfilment applies —
    and the line says when it would move: a bank transfer takes days, and another
    order may be paid first, so the invoice promises the rule, not an end date it may
    not keep. Once paid, the real period is the subscription's (`paid_period`).
    """
    if order.kind == OrderKind.ADDON:
        return f"Дополнительные выгрузки: +{group_thousands(order.addon_exports)} к текущей подписке"
    term = planned_term(order.organization, order.term_months, clock.now())
    head = f"Доступ к сервису, тариф «{order.tariff_name}», {order.term_months} мес."
    if term.follows_paid:
        return (
            f"{head}, с {term.starts_on:%d.%m.%Y} — после окончания текущей подписки; "
            "при оплате позже — со дня зачисления оплаты"
        )
    return f"{head} со дня зачисления оплаты"


def paid_period(order: Order) -> tuple[date, date] | None:
    """First and last day (inclusive) of the subscription a paid order formed, or None."""
    from podpiska.subscriptions.models import Subscription

    subscription = Subscription.objects.filter(order_id=order.pk).first()
    if subscription is None:
        return None
    tz = order.organization.tz
    return subscription.starts_at.astimezone(tz).date(), last_day(subscription.ends_at, tz)


def annul_invoice(order: Order, *, actor, reason: str, at) -> Invoice | None:
    """Mark a cancelled order's invoice annulled, with the reason; it keeps its number.

    Runs in the cancellation's transaction; a second call changes nothing.
    """
    invoice = Invoice.objects.select_for_update().filter(order=order).first()
    if invoice is None or invoice.annulled_at is not None:
        return invoice
    audited_update(invoice, "invoice.annulled", actor,
                   recorded=["annulled_at", "annulment_reason"],
                   annulled_at=at, annulment_reason=reason[:500])
    return invoice


def issue_invoice(order: Order) -> Invoice:
    """The invoice of a bank-transfer order; issues it on the first call.

    Call inside the order's transaction (place_order). Idempotent: a second call, also a
    concurrent one, returns the existing invoice instead of taking another number.
    """
    existing = Invoice.objects.filter(order=order).first()
    if existing is not None:
        return existing
    if order.pay_by is None:
        raise ValueError(
            f"order {order.pk} has no pay-by date; only bank-transfer orders get invoices"
        )
    # Everything that needs no number is prepared before the counter lock is taken:
    # the lock is held until the caller commits and serialises all issuers.
    issued_on = seller_today()
    line = invoice_line(order)
    seller_requisites = seller()
    vat_rate = seller_requisites.get("vat_rate")
    with transaction.atomic():
        counter = locked_counter(InvoiceCounter, issued_on.year)
        # Re-checked under the counter lock: a concurrent issue for the same order has
        # committed by now, and taking a second number for it would leave a gap.
        existing = Invoice.objects.filter(order=order).first()
        if existing is not None:
            return existing
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        invoice = Invoice.objects.create(
            order=order,
            organization=order.organization,
            year=issued_on.year,
            number=counter.last_number,
            issued_on=issued_on,
            pay_by=order.pay_by,
            seller=seller_requisites,
            buyer=dict(order.requisites),
            line=line,
            total=order.price,
            vat_rate=vat_rate,
            vat_amount=vat_inside(order.price, vat_rate),
            created_at=clock.now(),
        )
        record("invoice.issued", invoice, actor=order.created_by, after=snapshot(invoice))
        publish(
            "invoice.issued",
            organization=order.organization,
            data={
                "invoice_id": invoice.pk,
                "number": invoice.display_number,
                "order_id": order.pk,
                "issued_on": invoice.issued_on.isoformat(),
                "pay_by": invoice.pay_by.isoformat(),
                "total": invoice.total,
                "vat_amount": invoice.vat_amount,
            },
        )
    return invoice


def vat_clause(invoice: Invoice, sep: str = " ") -> str:
    """«В т. ч. НДС (22 %) 57 993,44 руб.» or «Без НДС» for the payment purpose."""
    if not invoice.vat_rate:
        return "Без НДС"
    return f"В т. ч. НДС ({invoice.vat_rate} %) {format_amount(invoice.vat_amount, sep)} руб."


def payment_purpose(invoice: Invoice) -> str:
    """The «НазначениеПлатежа» the customer copies into the payment order.

    The statement matcher finds the invoice by `display_number` in it, so the number is
    never shortened; a long tariff name is cut to keep the bank's 210-character limit.
    Plain spaces only: bank systems reject no-break spaces.
    """
    order = invoice.order
    head = f"Оплата по счёту № {invoice.display_number} от {invoice.issued_on:%d.%m.%Y} за "
    tail = f". {vat_clause(invoice)}"
    if order.kind == OrderKind.ADDON:
        subject = f"дополнительные выгрузки (+{group_thousands(order.addon_exports, ' ')})"
    else:
        subject = f"доступ к сервису, тариф «{order.tariff_name}»"
    room = PURPOSE_MAX_LENGTH - len(head) - len(tail)
    if len(subject) > room:
        subject = subject[: room - 2] + "…»" if subject.endswith("»") else subject[: room - 1] + "…"
    return head + subject + tail


class InvoiceState:
    PAYABLE = "payable"
    PAID = "paid"
    VOID = "void"
    ANNULLED = "annulled"


def invoice_state(invoice: Invoice) -> str:
    """Whether the customer should still pay this invoice (from its order's status).

    A paid invoice and one whose order was cancelled or expired must not invite a
    payment: money sent for it would only wait for staff to return or reassign it.
    """
    if invoice.annulled_at is not None:
        return InvoiceState.ANNULLED
    closed = closed_order_reason(invoice.order.status)
    if closed == QueueReason.ALREADY_PAID:
        return InvoiceState.PAID
    if closed == QueueReason.ORDER_CLOSED:
        return InvoiceState.VOID
    return InvoiceState.PAYABLE


def invoices_visible_to(user):
    """Invoices `user` may open: those of organizations they belong to; staff see all."""
    if user.is_staff:
        return Invoice.objects.all()
    return Invoice.objects.filter(organization__memberships__user=user)
