"""Import of a bank statement: the incoming payments recorded, matched ones applied (SPEC §5).

One call, `import_statement(data, file_name=..., actor=...)`, used by the command line
and by the staff upload alike. The file is parsed whole first: a malformed one is
refused with its line number and nothing is written. Then, for the payments to the
seller's accounts:

- a bank document already recorded (same number, date, payer account and amount), in
  an earlier import or earlier in the same file, is a duplicate and credits nothing;
  so is one staff confirmed by hand (same order, date, number and amount);
- every other payment is recorded; one matched to an invoice is linked to its order
  and applied by `settlement.settle`, the one path that applies money, so it fulfils
  the order exactly as a payment confirmed by staff would;
- the rest waits for staff with the reason and suggestions.

Payments are written in batches, each batch one transaction (recorded, applied,
audited, notified), so a crash mid-file loses nothing and importing the file again
completes it. Lookups and writes are made in bulk, never per document: a year of
payments is a hundred thousand documents.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.fields.json import KT

from podpiska.accounts.models import Organization
from podpiska.audit.log import PAYMENT_RECORDED_FIELDS, record, record_many, snapshot
from podpiska.billing.bank_documents import document_number, identity
from podpiska.billing.invoices import seller_today, seller_tz
from podpiska.billing.models import (
    Invoice,
    OrderStatus,
    Outcome,
    Payment,
    PaymentSource,
    PaymentState,
    StatementImport,
)
from podpiska.billing.settlement import (
    Claim,
    carry_out,
    decide,
    payment_changes,
    queued_event_data,
)
from podpiska.billing.statements.matching import (
    MAX_SUGGESTIONS,
    InvoiceFacts,
    Match,
    invoice_references,
    match,
)
from podpiska.billing.statements.parser import Document, StatementError, parse_statement
from podpiska.core import bulk, clock, collector, limits
from podpiska.notifications.events import publish_many

COUNTS = ("documents", "incoming", "matched", "queued", "duplicates", "skipped")
# Payments per transaction: a crash loses at most one batch, which a re-import redoes.
BATCH = 10_000
_DEDUP_KEY_MAX = Payment._meta.get_field("dedup_key").max_length


@dataclass
class ImportReport:
    """What an import did; `error` and `line` are set instead when the file was refused.

    documents = incoming + skipped; incoming = matched + queued + duplicates.
    """

    documents: int = 0
    incoming: int = 0
    matched: int = 0
    queued: int = 0
    duplicates: int = 0
    skipped: int = 0
    error: str | None = None
    line: int | None = None
    statement_import_id: int | None = None
    # Queued payments by QueueReason, for the human report.
    reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        if self.error is not None:
            return {"error": self.error, "line": self.line}
        return {name: getattr(self, name) for name in COUNTS}


def seller_accounts() -> frozenset[str]:
    """The seller's settlement accounts: the invoiced one and any others configured."""
    seller = settings.PODPISKA_SELLER
    return frozenset(filter(None, [seller.get("account"), *seller.get("accounts", [])]))


def dedup_key(document: Document) -> str:
    """One bank document, however often it is imported: number, date, payer account, sum.

    The number is compared by `document_number`.
    """
    number = document_number(document.number)
    key = f"statement:{document.date:%Y-%m-%d}:{number}:{document.payer_account}:{document.amount}"
    if len(key) > _DEDUP_KEY_MAX:
        key = "statement:sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def import_statement(
    data: bytes,
    *,
    file_name: str,
    actor=None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a 1CClientBankExchange file; see the module's docstring.

    `progress(done, total)`, when given, is called after each committed batch with the
    payments written so far and the payments to write (a year's file takes a while).
    """
    with collector.paused():
        return _import(data, file_name, actor, progress)


def _import(data: bytes, file_name: str, actor, progress) -> ImportReport:
    try:
        statement = parse_statement(data, today=seller_today())
    except StatementError as error:
        return ImportReport(error=error.message, line=error.line)

    report = ImportReport(documents=len(statement.documents))
    fresh = _fresh_incoming(statement.documents, report)
    references = [invoice_references(document.purpose) for _, document in fresh]
    invoices = _invoices_by_key(key for refs in references for key in refs)
    matches = [
        match(document, invoices, references=refs)
        for (_, document), refs in zip(fresh, references, strict=True)
    ]
    unmatched = [i for i, verdict in enumerate(matches) if verdict.invoice is None]
    payer_orgs: dict[str, int] = {}
    if unmatched:
        # Suggestions for staff need the open invoices by payer INN and by amount.
        inns = {fresh[i][1].payer_inn for i in unmatched} - {""}
        amounts = {fresh[i][1].amount for i in unmatched}
        # An invoice this file pays in full is not open any more: never suggest it.
        paid_here = {verdict.invoice.id for verdict in matches if verdict.is_full}
        open_by_inn = _open_invoices("organization__inn", inns, paid_here)
        open_by_amount = _open_invoices("total", amounts, paid_here)
        payer_orgs = _organizations_by_inn(inns)
        for i in unmatched:
            matches[i] = match(
                fresh[i][1],
                invoices,
                open_by_inn=open_by_inn,
                open_by_amount=open_by_amount,
                references=references[i],
            )

    fresh, matches = _without_confirmed_by_hand(fresh, matches, report)

    with transaction.atomic():
        statement_import = StatementImport.objects.create(
            file_name=file_name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            created_at=clock.now(),
        )
    report.statement_import_id = statement_import.pk

    received: dict[date, datetime] = {}
    created_by = getattr(actor, "pk", None)
    # In key order, so two imports inserting overlapping documents never deadlock; the
    # rows are built batch by batch, not a hundred thousand dicts at once.
    pending = sorted(zip(fresh, matches, strict=True), key=lambda item: item[0][0])
    done = 0
    for batch in bulk.chunks(pending, BATCH):
        rows = [
            _payment_row(key, document, verdict, payer_orgs, statement_import, created_by, received)
            for (key, document), verdict in batch
        ]
        _import_batch(rows, statement_import, actor, report)
        done += len(batch)
        if progress is not None:
            progress(done, len(pending))

    statement_import.report = report.as_dict()
    with transaction.atomic():
        statement_import.save(update_fields=["report"])
        record(
            "statement.imported", statement_import, actor=actor, after=snapshot(statement_import)
        )
    return report


# --- steps -------------------------------------------------------------------------------


def _fresh_incoming(documents: list[Document], report: ImportReport) -> list[tuple[str, Document]]:
    """Incoming payments not recorded before, with their dedup keys; counts the rest."""
    accounts = seller_accounts()
    taken: dict[str, Document] = {}
    for document in documents:
        # A zero sum is a bank's notice, not money: nothing to credit.
        if document.amount <= 0 or not document.is_incoming_to(accounts):
            report.skipped += 1
            continue
        report.incoming += 1
        key = dedup_key(document)
        if key in taken:
            report.duplicates += 1
        else:
            taken[key] = document
    known = _known_dedup_keys(list(taken))
    report.duplicates += len(known)
    return [(key, document) for key, document in taken.items() if key not in known]


def _without_confirmed_by_hand(
    fresh: list[tuple[str, Document]], matches: list[Match], report: ImportReport
) -> tuple[list[tuple[str, Document]], list[Match]]:
    """Leave out the documents staff have already confirmed by hand.

    A payment confirmed in /staff/ from the bank's notice, before the statement came,
    is the same bank document (`bank_documents.identity`) when the statement's copy pays
    the same order with the same date, number and amount: it is a duplicate, not a second
    payment for staff to dismiss.
    """
    orders = {verdict.invoice.order_id for verdict in matches if verdict.invoice is not None}
    if not orders:
        return fresh, matches
    by_hand = {
        identity(order_id, day, number, amount)
        for order_id, day, number, amount in Payment.objects.filter(
            source=PaymentSource.MANUAL, order_id__any_of=sorted(orders)
        ).values_list("order_id", "doc_date", "doc_number", "amount")
    }
    if not by_hand:
        return fresh, matches
    kept = [
        (item, verdict)
        for item, verdict in zip(fresh, matches, strict=True)
        if verdict.invoice is None
        or identity(verdict.invoice.order_id, item[1].date, item[1].number, item[1].amount)
        not in by_hand
    ]
    report.duplicates += len(fresh) - len(kept)
    return [item for item, _ in kept], [verdict for _, verdict in kept]


def _known_dedup_keys(keys: list[str]) -> set[str]:
    """The keys among `keys` that some payment already has."""
    return set(Payment.objects.filter(dedup_key__any_of=keys).values_list("dedup_key", flat=True))


def _facts(rows: Iterable[tuple]) -> Iterator[InvoiceFacts]:
    for pk, year, number, buyer_inn, total, order_id, status, organization_id in rows:
        yield InvoiceFacts(
            pk,
            year,
            number,
            buyer_inn or "",
            total,
            order_id,
            status,
            organization_id,
        )


_FACT_FIELDS = (
    "pk",
    "year",
    "number",
    # The INN frozen on the invoice, read out of the JSON by the database as text (not
    # as a JSON value, which SQLite would turn into a number, losing leading zeros).
    KT("buyer__inn"),
    "total",
    "order_id",
    "order__status",
    "organization_id",
)


def _invoices_by_key(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], InvoiceFacts]:
    numbers_by_year: dict[int, set[int]] = defaultdict(set)
    for year, number in keys:
        numbers_by_year[year].add(number)
    found: dict[tuple[int, int], InvoiceFacts] = {}
    for year, numbers in numbers_by_year.items():
        rows = Invoice.objects.filter(year=year, number__any_of=sorted(numbers))
        found.update((facts.key, facts) for facts in _facts(rows.values_list(*_FACT_FIELDS)))
    return found


def _open_invoices(lookup: str, values: set, excluded: set[int]) -> dict:
    """Unpaid invoices grouped by `lookup` (buyer INN or total), newest first, five each."""
    grouped: dict = defaultdict(list)
    rows = (
        Invoice.objects.filter(
            order__status=OrderStatus.AWAITING_PAYMENT, **{f"{lookup}__any_of": sorted(values)}
        )
        .order_by("-pk")
        .values_list(lookup, *_FACT_FIELDS)
    )
    for value, *facts in rows:
        group = grouped[value]
        if len(group) < MAX_SUGGESTIONS and facts[0] not in excluded:
            group.extend(_facts([facts]))
    return grouped


def _organizations_by_inn(inns: set[str]) -> dict[str, int]:
    return dict(Organization.objects.filter(inn__any_of=sorted(inns)).values_list("inn", "pk"))


def _received_at(document: Document, cache: dict[date, datetime]) -> datetime:
    """The day the money reached us, as midnight in Moscow (the seller's bank day)."""
    day = document.date_credited or document.date
    if day not in cache:
        cache[day] = datetime.combine(day, time(0), tzinfo=seller_tz())
    return cache[day]


def _payment_row(
    key: str,
    document: Document,
    verdict: Match,
    payer_orgs: dict[str, int],
    statement_import: StatementImport,
    created_by: int | None,
    received: dict[date, datetime],
) -> dict:
    """The payment to record: linked to its order when matched, else queued with the reason."""
    invoice = verdict.invoice
    return {
        "source": PaymentSource.STATEMENT,
        "state": PaymentState.QUEUED,
        "queue_reason": "" if invoice else verdict.reason,
        "organization_id": invoice.organization_id if invoice else payer_orgs.get(document.payer_inn),
        "order_id": invoice.order_id if invoice else None,
        "amount": document.amount,
        "received_at": _received_at(document, received),
        "dedup_key": key,
        "statement_id": statement_import.pk,
        "suggestions": verdict.suggestions,
        "created_by_id": created_by,
        "created_at": statement_import.created_at,
        # Cut to the columns: a foreign bank's odd values must not fail the whole import.
        "doc_number": document.number[:50],
        "doc_date": document.date,
        "payer_name": document.payer_name[:500],
        "payer_inn": document.payer_inn[:12],
        "payer_account": document.payer_account[:20],
        "payer_bik": document.payer_bik[:9],
        **_purpose_and_note(document.purpose),
    }


def _purpose_and_note(purpose: str) -> dict:
    """The purpose as stored: one far beyond a bank's 210 characters is cut (matching read
    only that much too), and the payment says so to the staff who look at it."""
    if len(purpose) <= limits.MAX_PURPOSE_CHARS:
        return {"purpose": purpose, "note": ""}
    return {
        "purpose": purpose[: limits.MAX_PURPOSE_CHARS],
        "note": (
            f"Назначение платежа в выписке длиной {len(purpose):,} символов, сохранены "
            f"первые {limits.MAX_PURPOSE_CHARS:,}."
        ).replace(",", " "),
    }


def _import_batch(
    rows: list[dict], statement_import: StatementImport, actor, report: ImportReport
) -> None:
    """Record a batch of payments, the matched ones applied, all or nothing.

    The orders are locked and judged first, so each payment is written once, in its
    final state («payment.recorded» shows it applied or queued with the reason).
    """
    at = clock.now()
    with transaction.atomic():
        matched = [
            Claim(index, row["amount"], row["order_id"])
            for index, row in enumerate(rows)
            if row["order_id"] is not None
        ]
        decision = decide(matched, at)
        for index, outcome in decision.outcomes.items():
            rows[index].update(payment_changes(outcome, at))
        written = _record(rows, statement_import)
        report.duplicates += len(rows) - len(written)
        record_many(
            "payment.recorded", Payment, sorted(written.values()), actor=actor,
            fields=PAYMENT_RECORDED_FIELDS,
        )
        decision = decision.recorded(written)
        carry_out(decision, actor=actor, at=at)
        unmatched = [
            (pk, rows[index]) for index, pk in written.items() if rows[index]["order_id"] is None
        ]
        publish_many(
            "payment.queued",
            [
                (row["organization_id"],
                 queued_event_data(pk, row["amount"], row["queue_reason"]))
                for pk, row in unmatched
                if row["organization_id"] is not None
            ],
        )
    report.queued += len(unmatched)
    report.reasons.update(row["queue_reason"] for _, row in unmatched)
    for outcome in decision.outcomes.values():
        if outcome == Outcome.FULFILLED:
            report.matched += 1
        else:
            report.queued += 1
            report.reasons[outcome] += 1


def _record(rows: list[dict], statement_import: StatementImport) -> dict[int, int]:
    """Write the payments; returns the id of each row written, by its index in `rows`.

    Another import of the same file running at this moment may have recorded some of
    them: then those are skipped (they count as duplicates) and the rows this import
    wrote are read back by their statement.
    """
    try:
        with transaction.atomic():
            return dict(enumerate(bulk.insert(Payment, rows)))
    except IntegrityError:
        pass
    Payment.objects.bulk_create(
        [Payment(**row) for row in rows], batch_size=bulk.CHUNK, ignore_conflicts=True
    )
    index_of = {row["dedup_key"]: index for index, row in enumerate(rows)}
    written = Payment.objects.filter(
        statement=statement_import, dedup_key__any_of=list(index_of)
    ).values_list("dedup_key", "pk")
    return {index_of[key]: pk for key, pk in written}
