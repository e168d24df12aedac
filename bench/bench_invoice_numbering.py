"""Invoice numbering under 8 concurrent writers on PostgreSQL: throughput, no gaps, no repeats.

Each writer is a thread with its own database connection; each invoice is issued in its
own transaction, as place_order does. The baseline is one writer issuing invoices
serially in the same run, so the report says what concurrency costs (the counter row
lock serialises issuers by design) rather than an absolute rate on a shared machine.
"""

import statistics
import threading
import time
from datetime import timedelta

from django.db import connection, connections, transaction

from podpiska.accounts.models import Organization
from podpiska.billing.invoices import issue_invoice, seller_today
from podpiska.billing.models import Invoice, Order, OrderKind, OrderStatus, PaymentMethod
from podpiska.core import clock
from podpiska.core.requisites import inn_check_digits
from podpiska.demo.data import load_catalog

WRITERS = 8
CONCURRENT_INVOICES = 400
SERIAL_INVOICES = 100


def _orders(count: int) -> list[Order]:
    tariff = load_catalog()["400"]
    org, _ = Organization.objects.get_or_create(
        inn=inn_check_digits("779912345"),
        defaults=dict(
            name="Общество с ограниченной ответственностью «Бенчмарк»",
            short_name="ООО «Бенчмарк»",
            kpp="770101001",
            legal_address="125009, г. Москва, ул. Тверская, д. 1",
        ),
    )
    now = clock.now()
    stamp = time.monotonic_ns()
    return Order.objects.bulk_create(
        Order(
            **tariff.terms(),
            organization=org,
            kind=OrderKind.RENEW,
            # Closed: an organization holds one unpaid term order at a time, and the
            # numbering (all this measures) does not look at the order's status.
            status=OrderStatus.EXPIRED,
            tariff=tariff,
            requisites=org.requisites(),
            payment_method=PaymentMethod.INVOICE,
            idempotency_key=f"bench-{stamp}-{i}",
            created_at=now,
            pay_by=seller_today() + timedelta(days=14),
        )
        for i in range(count)
    )


def _issue(orders: list[Order], latencies: list[float]) -> list[int]:
    numbers = []
    for order in orders:
        started = time.perf_counter()
        with transaction.atomic():
            numbers.append(issue_invoice(order).number)
        latencies.append(time.perf_counter() - started)
    return numbers


def _concurrent(orders: list[Order], latencies: list[float]) -> tuple[list[int], list[str]]:
    barrier = threading.Barrier(WRITERS)
    numbers: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def writer(share: list[Order]) -> None:
        try:
            barrier.wait()
            mine = _issue(share, latencies)
            with lock:
                numbers.extend(mine)
        except Exception as exc:  # noqa: BLE001 - every writer's failure goes in the report
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(orders[i::WRITERS],)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return numbers, errors


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def run(report: dict) -> None:
    if connection.vendor != "postgresql":
        report["skipped"] = "нужен PostgreSQL: задайте DATABASE_URL=postgres://…"
        return
    year = seller_today().year
    orders = _orders(SERIAL_INVOICES + CONCURRENT_INVOICES)

    serial_latencies: list[float] = []
    started = time.perf_counter()
    serial_numbers = _issue(orders[:SERIAL_INVOICES], serial_latencies)
    serial_seconds = time.perf_counter() - started
    serial_rate = SERIAL_INVOICES / serial_seconds

    latencies: list[float] = []
    started = time.perf_counter()
    numbers, errors = _concurrent(orders[SERIAL_INVOICES:], latencies)
    seconds = time.perf_counter() - started
    rate = len(numbers) / seconds

    issued = sorted(serial_numbers + numbers)
    repeats = len(issued) - len(set(issued))
    # Gaps over the whole year: other benches may have issued invoices before this one.
    year_numbers = sorted(Invoice.objects.filter(year=year).values_list("number", flat=True))
    gaps = len(set(range(1, (year_numbers[-1] if year_numbers else 0) + 1)) - set(year_numbers))
    contiguous = issued == list(range(issued[0], issued[0] + len(issued))) if issued else False

    report.update(
        writers=WRITERS,
        invoices=len(numbers),
        errors=errors,
        seconds=round(seconds, 3),
        invoices_per_second=round(rate, 1),
        latency_p50_ms=_ms(statistics.median(latencies)) if latencies else None,
        latency_p95_ms=_ms(statistics.quantiles(latencies, n=20)[18])
        if len(latencies) > 1
        else None,
        serial_invoices_per_second=round(serial_rate, 1),
        ratio_to_serial=round(rate / serial_rate, 2),
        serial_latency_p50_ms=_ms(statistics.median(serial_latencies)),
        numbers=f"{issued[0]}..{issued[-1]}" if issued else "",
        repeats=repeats,
        gaps=gaps,
    )
    assert not errors, errors
    assert len(numbers) == CONCURRENT_INVOICES, "every writer's invoice was issued"
    assert repeats == 0, f"{repeats} repeated invoice numbers"
    assert gaps == 0 and contiguous, f"{gaps} gaps in the year's invoice numbers"
