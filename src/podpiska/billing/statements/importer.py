"""Import of a bank statement: the incoming payments recorded, matched ones applied (SPEC §5).

One call, `import_statement(data, file_name=..., actor=...)`, used by the command line
and by the staff upload alike. The file is parsed whole first: a malformed one is
refused with its line number and nothing is written. Then, for the payments to the
seller's accounts:

- a bank document already recorded (same number, date, payer account and amount), in
  an earlier import or earlier in the same file, is a duplicate and credits nothing;
- a payment matched to an invoice goes through `record_payment` + `apply_payment`, the
  one path that applies money, each in its own transaction, so a crash mid-file loses
  nothing and importing the file again completes it;
- everything else is recorded for staff in bulk, with the reason and suggestions.

Lookups are made in bulk (chunked IN queries), never per document: a year of payments
is a hundred thousand documents.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models.fields.json import KT

from podpiska.accounts.models import Organization
from podpiska.audit.log import actor_of, record, snapshot
from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import publish_queued, record_payment
from podpiska.billing.invoices import seller_tz
from podpiska.billing.models import (
    Invoice,
    Order,
    OrderStatus,
    Payment,
    PaymentSource,
    PaymentState,
    StatementImport,
)
from podpiska.billing.statements.matching import (
    MAX_SUGGESTIONS,
    InvoiceFacts,
    Match,
    invoice_references,
    match,
)
from podpiska.billing.statements.parser import Document, StatementError, parse_statement
from podpiska.core import clock

COUNTS = ("documents", "incoming", "matched", "queued", "duplicates", "skipped")
# Values per IN query: far below SQLite's and PostgreSQL's limits, big enough to be few.
CHUNK = 2000
# Threads applying matched payments on PostgreSQL (see `_apply_all`).
FULFILMENT_THREADS = 4
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

    Leading zeros of the number are dropped: banks differ in padding it.
    """
    number = document.number.strip().lstrip("0") or "0"
    key = f"statement:{document.date:%Y-%m-%d}:{number}:{document.payer_account}:{document.amount}"
    if len(key) > _DEDUP_KEY_MAX:
        key = "statement:sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def import_statement(data: bytes, *, file_name: str, actor=None) -> ImportReport:
    """Import a 1CClientBankExchange file; see the module's docstring."""
    try:
        statement = parse_statement(data)
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
    payer_orgs: dict[str, Organization] = {}
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

    with transaction.atomic():
        statement_import = StatementImport.objects.create(
            file_name=file_name[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            created_at=clock.now(),
        )
    report.statement_import_id = statement_import.pk

    received: dict[date, datetime] = {}
    queued = [
        _queued_payment(key, document, verdict, payer_orgs, statement_import, actor, received)
        for (key, document), verdict in zip(fresh, matches, strict=True)
        if verdict.invoice is None
    ]
    _record_queued(queued, statement_import, actor, report)

    identified = [
        (item, verdict) for item, verdict in zip(fresh, matches, strict=True) if verdict.invoice
    ]
    orders = _orders_by_id(verdict.invoice.order_id for _, verdict in identified)
    jobs = [
        (key, document, orders[verdict.invoice.order_id]) for (key, document), verdict in identified
    ]
    _apply_all(jobs, statement_import, actor, received, report)

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


def _known_dedup_keys(keys: list[str]) -> set[str]:
    """The keys among `keys` that some payment already has."""
    db = connections[Payment.objects.db]
    if db.vendor != "postgresql":
        known = set()
        for chunk in _chunks(keys):
            known.update(
                Payment.objects.filter(dedup_key__in=chunk).values_list("dedup_key", flat=True)
            )
        return known
    import psycopg

    # One array bound by the server instead of IN lists that Django's client-side
    # binding quotes value by value: five times faster on a year of payments.
    table, column = db.ops.quote_name(Payment._meta.db_table), db.ops.quote_name("dedup_key")
    db.ensure_connection()
    with psycopg.Cursor(db.connection) as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {column} = ANY(%s)", [keys])
        return {key for (key,) in cursor}


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
        for chunk in _chunks(sorted(numbers)):
            rows = Invoice.objects.filter(year=year, number__in=chunk).values_list(*_FACT_FIELDS)
            found.update((facts.key, facts) for facts in _facts(rows))
    return found


def _open_invoices(lookup: str, values: set, excluded: set[int]) -> dict:
    """Unpaid invoices grouped by `lookup` (buyer INN or total), newest first, five each."""
    grouped: dict = defaultdict(list)
    for chunk in _chunks(sorted(values)):
        rows = (
            Invoice.objects.filter(
                order__status=OrderStatus.AWAITING_PAYMENT, **{f"{lookup}__in": chunk}
            )
            .order_by("-pk")
            .values_list(lookup, *_FACT_FIELDS)
        )
        for value, *facts in rows:
            group = grouped[value]
            if len(group) < MAX_SUGGESTIONS and facts[0] not in excluded:
                group.extend(_facts([facts]))
    return grouped


def _organizations_by_inn(inns: set[str]) -> dict[str, Organization]:
    found = {}
    for chunk in _chunks(sorted(inns)):
        found.update((org.inn, org) for org in Organization.objects.filter(inn__in=chunk))
    return found


def _orders_by_id(ids: Iterable[int]) -> dict[int, Order]:
    """Orders to hand to `record_payment`, which reads only their organization
    (`apply_payment` locks and reloads each order itself)."""
    found: dict[int, Order] = {}
    orders = Order.objects.select_related("organization").only("id", "organization")
    for chunk in _chunks(sorted(set(ids))):
        found.update(orders.in_bulk(chunk))
    return found


def _received_at(document: Document, cache: dict[date, datetime]) -> datetime:
    """The day the money reached us, as midnight in Moscow (the seller's bank day)."""
    day = document.date_credited or document.date
    if day not in cache:
        cache[day] = datetime.combine(day, time(0), tzinfo=seller_tz())
    return cache[day]


def _document_fields(document: Document) -> dict:
    # Cut to the columns: a foreign bank's odd values must not fail the whole import.
    return {
        "doc_number": document.number[:50],
        "doc_date": document.date,
        "payer_name": document.payer_name[:500],
        "payer_inn": document.payer_inn[:12],
        "payer_account": document.payer_account[:20],
        "payer_bik": document.payer_bik[:9],
        "purpose": document.purpose,
    }


def _queued_payment(
    key: str,
    document: Document,
    verdict: Match,
    payer_orgs: dict[str, Organization],
    statement_import: StatementImport,
    actor,
    received: dict[date, datetime],
) -> Payment:
    payment = Payment(
        source=PaymentSource.STATEMENT,
        state=PaymentState.QUEUED,
        queue_reason=verdict.reason,
        amount=document.amount,
        received_at=_received_at(document, received),
        dedup_key=key,
        statement_id=statement_import.pk,
        suggestions=verdict.suggestions,
        created_by_id=getattr(actor, "pk", None),
        created_at=statement_import.created_at,
        **_document_fields(document),
    )
    # Set through the descriptor only when there is one: publishing needs the object.
    organization = payer_orgs.get(document.payer_inn)
    if organization is not None:
        payment.organization = organization
    return payment


def _record_queued(
    payments: list[Payment], statement_import: StatementImport, actor, report: ImportReport
) -> None:
    """Write the payments for staff in bulk, with their audit records and notices.

    Another import of the same file running at this moment may have recorded some of
    them: then the insert skips those (they count as duplicates) and the rows this
    import wrote are read back by their statement.
    """
    if not payments:
        return
    # In key order, so two imports inserting overlapping documents never deadlock.
    payments.sort(key=lambda payment: payment.dedup_key)
    with transaction.atomic():
        try:
            with transaction.atomic():
                _insert(Payment, payments)
            written = payments
        except (IntegrityError, connection.Database.IntegrityError):
            for payment in payments:
                payment.pk = None  # ids of the rolled-back batches must not be reused
            Payment.objects.bulk_create(payments, batch_size=CHUNK, ignore_conflicts=True)
            written = list(
                Payment.objects.filter(
                    statement=statement_import, state=PaymentState.QUEUED
                ).select_related("organization")
            )
        report.duplicates += len(payments) - len(written)
        report.queued += len(written)
        report.reasons.update(payment.queue_reason for payment in written)
        _audit_recorded(written, actor)
        for payment in written:
            publish_queued(payment)


def _audit_recorded(payments: list[Payment], actor) -> None:
    """«payment.recorded» for each payment, as `record` writes it, in one insert."""
    at = clock.now()
    user, label = actor_of(actor)
    _insert(
        AuditRecord,
        [
            AuditRecord(
                at=at,
                actor_id=getattr(user, "pk", None),
                actor_label=label,
                action="payment.recorded",
                object_type=Payment._meta.label_lower,
                object_id=str(payment.pk),
                organization_id=payment.organization_id,
                after=_snapshot(payment),
            )
            for payment in payments
        ],
    )


_SNAPSHOT_FIELDS = [(field.name, field.attname) for field in Payment._meta.concrete_fields]


def _snapshot(payment: Payment) -> dict:
    """`audit.log.snapshot(payment)` for a freshly built payment, five times faster.

    Its values are already plain (str, int, None, lists of ints) but for the dates;
    tests check that both give the same.
    """
    values = payment.__dict__
    data = {name: values[attname] for name, attname in _SNAPSHOT_FIELDS}
    for name in ("received_at", "doc_date", "created_at", "resolved_at"):
        if data[name] is not None:
            data[name] = data[name].isoformat()
    data["suggestions"] = list(data["suggestions"])
    return data


def _insert(model, objects: list) -> None:
    """Insert new rows and set their ids: COPY on PostgreSQL, bulk_create elsewhere.

    Django's bulk_create sends PostgreSQL one array per column, which psycopg quotes
    value by value in Python (client-side binding) — most of an import's time. COPY
    takes the rows as they are; the ids are taken from the table's sequence first.
    A conflict on a unique key raises IntegrityError, as bulk_create would.
    """
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=CHUNK)
        return
    meta = model._meta
    fields = meta.concrete_fields
    db = connections[model.objects.db]
    # Values go to COPY as Python objects, which psycopg adapts; only JSON needs Django's
    # preparation (the Jsonb wrapper), and asking every field would double the time.
    json_fields = {
        field.attname: field for field in fields if field.get_internal_type() == "JSONField"
    }
    quote = db.ops.quote_name
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objects)],
        )
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk
        columns = ", ".join(quote(field.column) for field in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            attnames = [field.attname for field in fields]
            for obj in objects:
                row = obj.__dict__
                copy.write_row(
                    [
                        json_fields[name].get_db_prep_save(row[name], db)
                        if name in json_fields
                        else row[name]
                        for name in attnames
                    ]
                )
    for obj in objects:
        obj._state.adding = False
        obj._state.db = db.alias


def _apply_all(
    jobs: list[tuple[str, Document, Order]],
    statement_import: StatementImport,
    actor,
    received: dict[date, datetime],
    report: ImportReport,
) -> None:
    """Apply the matched payments, side by side on PostgreSQL.

    Each fulfilment is one short transaction that mostly waits for the database, so a
    few threads (each with its own connection) run them at once; the order and
    organization row locks of `apply_payment` keep two payments of one customer apart.
    Inside a caller's transaction other connections could not see this import's rows,
    and SQLite has one writer: there, and for a handful of payments, one at a time.
    """
    db = connections[Payment.objects.db]
    if db.vendor != "postgresql" or db.in_atomic_block or len(jobs) < 2 * FULFILMENT_THREADS:
        for key, document, order in jobs:
            _apply_matched(key, document, order, statement_import, actor, received, report)
        return

    def work(share: list[tuple[str, Document, Order]]) -> ImportReport:
        part = ImportReport()
        try:
            for key, document, order in share:
                _apply_matched(key, document, order, statement_import, actor, received, part)
        finally:
            connections.close_all()  # this thread's connections only
        return part

    shares = [jobs[start::FULFILMENT_THREADS] for start in range(FULFILMENT_THREADS)]
    with ThreadPoolExecutor(FULFILMENT_THREADS, thread_name_prefix="statement-import") as pool:
        parts = list(pool.map(work, shares))
    for part in parts:
        report.matched += part.matched
        report.queued += part.queued
        report.duplicates += part.duplicates
        report.reasons.update(part.reasons)


def _apply_matched(
    key: str,
    document: Document,
    order: Order,
    statement_import: StatementImport,
    actor,
    received: dict[date, datetime],
    report: ImportReport,
) -> None:
    """Record a matched payment and apply it, both or neither (one transaction)."""
    with transaction.atomic():
        payment, created = record_payment(
            source=PaymentSource.STATEMENT,
            amount=document.amount,
            received_at=_received_at(document, received),
            dedup_key=key,
            order=order,
            actor=actor,
            statement=statement_import,
            **_document_fields(document),
        )
    if not created:
        report.duplicates += 1
    elif payment.state == PaymentState.APPLIED:
        report.matched += 1
    else:
        report.queued += 1
        report.reasons[payment.queue_reason] += 1


def _chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
