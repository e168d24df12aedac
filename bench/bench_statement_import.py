"""Bank statement import: N documents (half paying open invoices) against the floor.

The floor is `floor_pass` — decode the file, split lines, split each into key and value —
measured in the same run (best of 3); `parse_to_floor` is to stay at most 2, and its
CPU-time twin `parse_to_floor_cpu` is the steadier figure on a shared machine. The
import is one `import_statement` call: parse, validate, match, write to the database,
and fulfil every matched order through `settlement.settle`, the one path that applies
money (subscriptions formed, orders fulfilled, audit records and notices written).

N is 100 000 unless BENCH_STATEMENT_DOCS says otherwise. The organizations, orders and
invoices are set up with bulk inserts: setup, not the thing measured.
"""

import importlib.util
import os
import random
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection

from podpiska.accounts.models import Membership, Organization, User
from podpiska.audit.models import AuditRecord
from podpiska.billing.invoices import payment_purpose, seller, seller_today
from podpiska.billing.models import (
    ClosingDocument,
    Invoice,
    InvoiceCounter,
    Order,
    OrderKind,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentState,
)
from podpiska.billing.statements import importer
from podpiska.billing.statements.generator import generate_incoming_payment, generate_statement
from podpiska.billing.statements.parser import floor_pass, parse_statement
from podpiska.core import clock
from podpiska.core.money import vat_inside
from podpiska.core.requisites import inn_check_digits
from podpiska.demo.data import load_catalog
from podpiska.notifications.models import EmailMessage
from podpiska.subscriptions.models import Subscription

DEFAULT_DOCUMENTS = 100_000
BATCH = 2000


def _open_invoices(count: int) -> list[Invoice]:
    """`count` organizations, each with an owner and an unpaid order for Компас 400."""
    tariff = load_catalog()["400"]
    now = clock.now()
    today = seller_today()
    organizations = Organization.objects.bulk_create(
        (
            Organization(
                name=f"Общество с ограниченной ответственностью «Клиент {i}»",
                short_name=f"ООО «Клиент {i}»",
                inn=inn_check_digits(f"78{i:07d}"),
                kpp="780101001",
                legal_address="190000, г. Санкт-Петербург, Невский пр., д. 1",
            )
            for i in range(count)
        ),
        batch_size=BATCH,
    )
    # Each has an owner, who is e-mailed when the order is paid, as in life.
    owners = User.objects.bulk_create(
        (User(email=f"owner{org.pk}@client.example", password="!") for org in organizations),
        batch_size=BATCH,
    )
    Membership.objects.bulk_create(
        (
            Membership(user=owner, organization=org, role=Membership.Role.OWNER)
            for owner, org in zip(owners, organizations, strict=True)
        ),
        batch_size=BATCH,
    )
    orders = Order.objects.bulk_create(
        (
            Order(
                **tariff.terms(),
                organization=org,
                kind=OrderKind.DEFAULT_OFFER,
                tariff=tariff,
                requisites=org.requisites(),
                payment_method=PaymentMethod.INVOICE,
                idempotency_key=f"bench-{org.pk}",
                created_at=now,
                pay_by=today + timedelta(days=14),
            )
            for org in organizations
        ),
        batch_size=BATCH,
    )
    seller_requisites = seller()
    # After the invoices other benchmarks of the run have issued this year.
    counter = InvoiceCounter.objects.filter(year=today.year).first()
    issued = counter.last_number if counter else 0
    vat_rate = seller_requisites.get("vat_rate")
    invoices = Invoice.objects.bulk_create(
        (
            Invoice(
                order=order,
                organization=order.organization,
                year=today.year,
                number=number,
                issued_on=today,
                pay_by=order.pay_by,
                seller=seller_requisites,
                buyer=order.requisites,
                line=f"Доступ к сервису, тариф «{order.tariff_name}»",
                total=order.price,
                vat_rate=vat_rate,
                vat_amount=vat_inside(order.price, vat_rate),
                created_at=now,
            )
            for number, order in enumerate(orders, issued + 1)
        ),
        batch_size=BATCH,
    )
    InvoiceCounter.objects.update_or_create(
        year=today.year, defaults={"last_number": issued + count}
    )
    return invoices


def _statement(invoices: list[Invoice], others: int) -> bytes:
    account = settings.PODPISKA_SELLER["account"]
    bik = settings.PODPISKA_SELLER["bik"]
    day = seller_today()
    rng = random.Random(42)
    strangers = [inn_check_digits(f"50{i:08d}") for i in range(500)]
    common = dict(
        day=day, payee_account=account, payee_bik=bik, payer_account="40702810400000000123"
    )
    documents = [
        generate_incoming_payment(
            number=str(i + 1),
            amount=invoice.total,
            purpose=payment_purpose(invoice),
            payer_name=invoice.buyer["name"],
            payer_inn=invoice.buyer["inn"],
            **common,
        )
        for i, invoice in enumerate(invoices)
    ]
    documents += [
        generate_incoming_payment(
            number=str(len(invoices) + i + 1),
            amount=rng.randrange(1_000_00, 900_000_00),
            purpose=f"Оплата по договору № {rng.randrange(1, 999)}/{i % 12 + 1} от 01.02.2026 за услуги",
            payer_name=f"ООО «Плательщик {i}»",
            payer_inn=rng.choice(strangers),
            **common,
        )
        for i in range(others)
    ]
    rng.shuffle(documents)
    return generate_statement(documents, account=account, bank_bik=bik, date_from=day, date_to=day)


def _best_of(runs: int, action) -> tuple[float, float]:
    """The least wall-clock time and the least CPU time of `runs` calls. CPU time leaves
    out what other processes take of a shared machine; both are single-threaded."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    return best, best_cpu


def run(report: dict) -> None:
    total = int(os.environ.get("BENCH_STATEMENT_DOCS", DEFAULT_DOCUMENTS))
    paying = total // 2
    started = time.perf_counter()
    invoices = _open_invoices(paying)
    data = _statement(invoices, total - paying)
    report["documents"] = total
    report["file_mb"] = round(len(data) / 2**20, 1)
    report["database"] = connection.vendor
    report["setup_seconds"] = round(time.perf_counter() - started, 1)

    floor, floor_cpu = _best_of(3, lambda: floor_pass(data))
    parse, parse_cpu = _best_of(3, lambda: parse_statement(data))
    # Memory: what parsing holds at its peak besides the file's bytes, against their size
    # (the decoded text alone is 1-2x: Cyrillic takes two bytes a character in a str).
    tracemalloc.start()
    parsed = parse_statement(data)
    parse_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del parsed

    started = time.perf_counter()
    result = importer.import_statement(data, file_name="bench.txt")
    elapsed = time.perf_counter() - started

    report["floor_seconds"] = round(floor, 3)
    report["parse_seconds"] = round(parse, 3)
    report["parse_to_floor"] = round(parse / floor, 2)
    report["parse_to_floor_cpu"] = round(parse_cpu / floor_cpu, 2)
    report["parse_peak_mb"] = round(parse_peak / 2**20, 1)
    report["parse_peak_to_file"] = round(parse_peak / len(data), 1)
    report["import_seconds"] = round(elapsed, 2)
    report["documents_per_second"] = round(total / elapsed)
    report["import_to_floor"] = round(elapsed / floor, 1)
    report["target_to_floor"] = 5
    report["result"] = result.as_dict()
    fulfilled = Order.objects.filter(status=OrderStatus.FULFILLED).count()
    applied = Payment.objects.filter(state=PaymentState.APPLIED).count()
    documents = ClosingDocument.objects.count()
    report["matched_ok"] = result.matched == paying == fulfilled == applied == documents
    if not report["matched_ok"]:
        raise AssertionError(
            f"matched {result.matched}, fulfilled {fulfilled}, applied {applied}, "
            f"closing documents {documents}, expected {paying}"
        )
    if connection.vendor == "postgresql":
        written = _write_floor()
        report["rows_written"] = {table: rows for table, (rows, _, _) in written.items()}
        report["written_mb"] = {table: mb for table, (_, mb, _) in written.items()}
        write_floor = sum(seconds for _, _, seconds in written.values())
        report["write_floor_seconds"] = round(write_floor, 2)
        report["write_floor_to_floor"] = round(write_floor / floor, 1)
        # How far the import is from the least any import writing these rows can take.
        report["import_to_parse_and_write_floor"] = round(elapsed / (parse + write_floor), 1)
        # What one audit record of each kind weighs as stored (row, JSON included).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT action, round(avg(pg_column_size(a.*))) FROM audit_auditrecord a "
                "GROUP BY action ORDER BY action"
            )
            report["audit_bytes_per_record"] = {action: int(size) for action, size in cursor.fetchall()}
        report["write_floor_by_table_to_floor"] = {
            table: round(seconds / floor, 2) for table, (_, _, seconds) in written.items()
        }


# What the import writes; a scratch copy of each table (its indexes, not its foreign keys).
_WRITTEN = (Payment, Subscription, ClosingDocument, AuditRecord, EmailMessage)


def _write_floor() -> dict[str, tuple[int, float, float]]:
    """The least the database needs to store the rows the import wrote (see
    write_floor.py). No import can write its rows faster; the orders' UPDATE is not
    counted."""
    path = Path(__file__).with_name("write_floor.py")
    spec = importlib.util.spec_from_file_location("write_floor", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_floor(_WRITTEN)
