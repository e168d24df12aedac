"""Matching an incoming bank payment to an invoice (SPEC §5).

A payment is confirmed automatically only when its purpose names exactly one of our
invoices, the payer's INN is the buyer's INN on that invoice, and the order still
awaits payment; `apply_payment` then compares the amount (equal: fulfilled; more:
fulfilled and flagged; less: queued). Anything else waits for staff with suggestions.

Pure functions over plain data: the importer loads the invoices in bulk and passes them
in, so matching costs no query per document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from podpiska.billing.models import OrderStatus, QueueReason, closed_order_reason
from podpiska.core import limits

MAX_SUGGESTIONS = 5

# An invoice number is «2026-00017» (Invoice.display_number); people also write
# «2026-17», «№2026/17», «№ 2026 - 17». Purposes are free text full of dates and sums,
# so a year glued to a preceding digit, or a digit and a separator («27.11.2026»,
# «27-11-2026»), is a date or an amount, and so is a number followed by a digit, a
# separator and a digit («2026-11-27», «2026-17.50»), or by a currency word.
_INVOICE_REFERENCE = re.compile(
    r"(?<!\d)(?<!\d[.,/\-–—])"
    r"(20\d\d)\s*[-/–—‐]\s*(\d{1,7})"
    r"(?!\d)(?![.,/\-–—]\d)(?!\s*(?:руб|р\.|₽|коп))",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """What matching needs to know about an invoice, loaded in bulk by the importer."""

    id: int
    year: int
    number: int
    buyer_inn: str
    total: int
    order_id: int
    order_status: str
    organization_id: int

    @property
    def key(self) -> tuple[int, int]:
        return self.year, self.number

    @property
    def is_open(self) -> bool:
        return self.order_status == OrderStatus.AWAITING_PAYMENT


@dataclass(frozen=True, slots=True)
class Match:
    """The verdict on one payment.

    `invoice` is set when the purpose names exactly one invoice and the payer is its
    buyer: the payment goes to that invoice's order and `apply_payment` decides (a closed
    or already paid order is queued there, linked to the order). Otherwise `invoice` is
    None and `reason` says why staff must look; `suggestions` are invoice ids for them.
    """

    invoice: InvoiceFacts | None
    reason: str
    suggestions: list[int] = field(default_factory=list)

    @property
    def is_full(self) -> bool:
        return self.invoice is not None and self.invoice.is_open


def invoice_references(purpose: str) -> list[tuple[int, int]]:
    """(year, number) of every invoice number written in `purpose`, in order, no repeats.

    Only the first `limits.MAX_PURPOSE_CHARS` characters are read (a bank's purpose holds
    210): a hostile megabyte of invoice-like tokens costs no more than a real purpose.
    """
    if not purpose:
        return []
    # A dict keeps the order and answers "seen?" at once: a list's `in` made this
    # quadratic in the number of tokens.
    found: dict[tuple[int, int], None] = {}
    for year, number in _INVOICE_REFERENCE.findall(purpose[: limits.MAX_PURPOSE_CHARS]):
        value = int(number)
        # «2026-2027» is a span of years, not invoice 2027 (that one is «2026-02027»).
        if value == 0 or (len(number) == 4 and number.startswith("20") and value > int(year)):
            continue
        found[(int(year), value)] = None
    return list(found)


def match(
    document,
    invoices_by_key: Mapping[tuple[int, int], InvoiceFacts],
    *,
    open_by_inn: Mapping[str, Sequence[InvoiceFacts]] | None = None,
    open_by_amount: Mapping[int, Sequence[InvoiceFacts]] | None = None,
    references: Sequence[tuple[int, int]] | None = None,
) -> Match:
    """Match a bank document (`purpose`, `payer_inn`, `amount`) to one invoice.

    `invoices_by_key` holds at least the invoices the purpose names; `open_by_inn` and
    `open_by_amount` hold unpaid invoices by buyer INN and by total, for suggestions.
    `references` saves parsing the purpose again when the caller already did.
    """
    if references is None:
        references = invoice_references(document.purpose)
    named = [invoices_by_key[key] for key in references if key in invoices_by_key]
    payer_inn = (document.payer_inn or "").strip()
    if len(named) == 1 and named[0].buyer_inn == payer_inn:
        return Match(named[0], closed_order_reason(named[0].order_status) or "")
    if not named:
        reason = QueueReason.NO_MATCH
    elif len(named) > 1:
        reason = QueueReason.AMBIGUOUS
    else:
        reason = QueueReason.INN_MISMATCH
    by_inn = (open_by_inn or {}).get(payer_inn, ()) if payer_inn else ()
    by_amount = (open_by_amount or {}).get(document.amount, ())
    return Match(None, reason, suggest(named, by_inn, by_amount))


def suggest(*groups: Iterable[InvoiceFacts]) -> list[int]:
    """Invoice ids for staff, most telling first, without repeats, at most five."""
    ids: dict[int, None] = {}
    for group in groups:
        for invoice in group:
            ids[invoice.id] = None
            if len(ids) == MAX_SUGGESTIONS:
                return list(ids)
    return list(ids)

