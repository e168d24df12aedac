"""Closing documents (УПД) of fulfilled orders: issuing in batches, numbering, annulling.

A УПД is issued by `settlement` in the transaction that fulfils the order, whichever way
the money came (bank statement, staff, card): one row per fulfilled order, written with
one statement for the whole batch and rendered (PDF, XML) only when someone asks.

Numbers are sequential per calendar year of the document's date with no gap and no
repeat, taken from the year's `ClosingDocumentCounter` row under a row lock held until
the caller commits — the invoices' design: a rolled-back fulfilment gives its numbers
back, and concurrent fulfilments queue on the lock.

The document is dated the day the paid term starts (the right of use is granted then);
an add-on on the day its payment is confirmed. Status 1 (счёт-фактура and передаточный
документ) when the seller charges VAT, status 2 (передаточный документ only) «Без НДС».
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _

from podpiska.audit.changes import audited_update
from podpiska.audit.log import record_many
from podpiska.billing.invoices import seller_tz
from podpiska.billing.models import (
    ClosingDocument,
    ClosingDocumentCounter,
    OrderKind,
    Payment,
    UpdStatus,
)
from podpiska.billing.numbering import insert_numbered, take_numbers
from podpiska.core import bulk, clock
from podpiska.core.money import group_thousands, vat_inside

# The reason is printed on the document and in the register.
ANNUL_REASON_MAX_LENGTH = 500


class AnnulRefused(Exception):
    """An annulment that cannot be made; the message is for the person who asked."""


@dataclass(frozen=True, slots=True)
class Fulfilment:
    """What a fulfilled order's document needs, as settlement knows it."""

    order_id: int
    organization_id: int
    kind: str
    terms: dict
    requisites: dict
    addon_exports: int
    payment_id: int
    period_start: date
    period_end: date | None


def upd_status(vat_rate: int | None) -> int:
    return UpdStatus.INVOICE_AND_TRANSFER if vat_rate else UpdStatus.TRANSFER_ONLY


def document_line(fulfilment: Fulfilment) -> str:
    """The УПД's one line: the service and the term with its real dates."""
    if fulfilment.kind == OrderKind.ADDON:
        line = (
            f"Дополнительные выгрузки: +{group_thousands(fulfilment.addon_exports, ' ')} "
            f"к подписке на тариф «{fulfilment.terms['tariff_name']}»"
        )
        if fulfilment.period_end:
            line += f" (по {fulfilment.period_end:%d.%m.%Y})"
        return line[:500]
    head = "Доступ к сервису, тариф «"
    tail = (
        f"», {fulfilment.terms['term_months']} мес., период с "
        f"{fulfilment.period_start:%d.%m.%Y} по {fulfilment.period_end:%d.%m.%Y}"
    )
    name = fulfilment.terms["tariff_name"][: 500 - len(head) - len(tail)]
    return head + name + tail


def payment_documents(payment_ids: list[int], tz: ZoneInfo) -> dict[int, tuple[str, date]]:
    """The payment document each УПД follows («к платёжно-расчётному документу»):
    the bank's payment order (number, date), or for a card payment the provider's
    payment id and the day it was received."""
    found = {}
    for chunk in bulk.chunks(sorted(payment_ids)):
        rows = Payment.objects.filter(pk__any_of=list(chunk)).values_list(
            "pk", "doc_number", "doc_date", "provider_payment_id", "received_at"
        )
        for pk, doc_number, doc_date, provider_id, received_at in rows:
            found[pk] = payment_document(pk, doc_number, doc_date, provider_id, received_at, tz)
    return found


def payment_document(pk, doc_number, doc_date, provider_id, received_at, tz) -> tuple[str, date]:
    """(number, date) of the document a payment is: the bank's payment order, or the
    provider's payment id and the day a card payment was received."""
    number = doc_number or provider_id or str(pk)
    return number[:100], doc_date or received_at.astimezone(tz).date()


def _row(item: Fulfilment, document: tuple[str, date], seller: dict, at: datetime) -> dict:
    """The УПД row of one fulfilment (everything it prints, frozen), without its number."""
    price = item.terms["price"]
    doc_number, doc_date = document
    vat_rate = seller.get("vat_rate")
    status = upd_status(vat_rate)
    return {
        "order_id": item.order_id,
        "organization_id": item.organization_id,
        "payment_id": item.payment_id,
        "year": item.period_start.year,
        "issued_on": item.period_start,
        "status": status,
        "seller": seller,
        "buyer": item.requisites,
        "line": document_line(item),
        "period_start": item.period_start,
        "period_end": item.period_end,
        "total": price,
        "vat_rate": vat_rate,
        "vat_amount": vat_inside(price, vat_rate),
        "payment_doc_number": doc_number,
        "payment_doc_date": doc_date,
        "created_at": at,
    }


def issue_closing_document(
    item: Fulfilment, *, document: tuple[str, date], seller: dict, at: datetime
) -> ClosingDocument:
    """One payment's УПД, for the single settlement path: numbered from the year's counter
    as the batch numbers its (`numbering`), the number taken and the row inserted by one
    statement on PostgreSQL. The caller writes its audit record with its others."""
    row = _row(item, document, seller, at)
    pk, number = insert_numbered(ClosingDocument, ClosingDocumentCounter, row)
    return ClosingDocument(pk=pk, number=number, **row)


def issue_closing_documents(
    fulfilments: list[Fulfilment], *, seller: dict, actor=None, at: datetime | None = None
) -> list[int]:
    """Write the УПД of each fulfilment, numbered, in the caller's transaction; their ids.

    The seller's requisites are those in force when the document is issued (the seller
    issues it now, for the sale it completes now). The counters are locked in year
    order after the orders (every path locks orders first), so issuers cannot deadlock.
    """
    if not fulfilments:
        return []
    at = at or clock.now()
    documents = payment_documents([item.payment_id for item in fulfilments], seller_tz())
    ordered = sorted(fulfilments, key=lambda item: item.order_id)
    rows = []
    years: dict[int, int] = {}
    for item in ordered:
        years[item.period_start.year] = years.get(item.period_start.year, 0) + 1
        rows.append(_row(item, documents[item.payment_id], seller, at))
    with transaction.atomic():
        next_number = {
            year: take_numbers(ClosingDocumentCounter, year, years[year]) for year in sorted(years)
        }
        for row in rows:
            row["number"] = next_number[row["year"]]
            next_number[row["year"]] += 1
        ids = bulk.insert(ClosingDocument, rows)
        record_many("closing_document.issued", ClosingDocument, ids, actor=actor)
    return ids


def clean_reason(reason) -> str:
    """The annulment reason as stored, or AnnulRefused with a message in the reader's language."""
    text = " ".join(str(reason or "").replace("\x00", " ").split())
    if not text:
        raise AnnulRefused(_("Укажите причину аннулирования."))
    if len(text) > ANNUL_REASON_MAX_LENGTH:
        raise AnnulRefused(
            _("Причина аннулирования — не длиннее %(n)s символов.") % {"n": ANNUL_REASON_MAX_LENGTH}
        )
    return text


def annul_closing_document(document: ClosingDocument, *, reason: str, actor) -> ClosingDocument:
    """Mark a УПД «аннулирован» with the reason (a refund, an annulled order).

    It keeps its number and stays in the register; nothing on it is rewritten. A second
    call returns the document as the first left it: the first reason stands.
    """
    reason = clean_reason(reason)
    with transaction.atomic():
        document = ClosingDocument.objects.select_for_update().get(pk=document.pk)
        if document.is_annulled:
            return document
        audited_update(
            document, "closing_document.annulled", actor,
            recorded=["annulled_at", "annul_reason", "annulled_by"],
            annulled_at=clock.now(), annul_reason=reason,
            annulled_by=actor if getattr(actor, "pk", None) else None,
        )
    return document


def annul_for_order(order, *, reason: str, actor) -> ClosingDocument | None:
    """Annul the УПД of `order` if it has one (an order annulled after it was paid)."""
    document = ClosingDocument.objects.filter(order=order).first()
    if document is None:
        return None
    return annul_closing_document(document, reason=reason, actor=actor)


# --- reading ----------------------------------------------------------------------------


def closing_documents_visible_to(user):
    """УПД `user` may download: those of organizations they belong to; staff see all."""
    if user.is_staff:
        return ClosingDocument.objects.all()
    return ClosingDocument.objects.filter(organization__memberships__user=user)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First day of the month and first day of the next."""
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following


def closing_documents_of_month(year: int, month: int):
    """The month's УПД by document date, in number order (annulled ones included)."""
    first, following = month_bounds(year, month)
    return ClosingDocument.objects.filter(
        issued_on__gte=first, issued_on__lt=following
    ).order_by("issued_on", "year", "number")
