"""Invoice numbering under real concurrency (PostgreSQL): no gaps, no repeats."""

import threading
from datetime import date

import pytest
from django.db import connection, connections, transaction

from podpiska.billing.invoices import issue_invoice
from podpiska.billing.models import Invoice, InvoiceCounter, Order, OrderKind, PaymentMethod
from podpiska.core import clock
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

WRITERS = 8


@pytest.fixture
def frozen():
    clock.freeze(NOW)
    yield
    clock.reset()


def open_orders(count: int) -> list[Order]:
    """Unpaid orders of `count` organizations (each may hold one open term order)."""
    tariff = catalog()["400"]
    organizations = [make_org(user=make_user()) for _ in range(count)]
    return [
        Order.objects.create(
            **tariff.terms(),
            organization=org,
            kind=OrderKind.RENEW,
            tariff=tariff,
            requisites=org.requisites(),
            payment_method=PaymentMethod.INVOICE,
            idempotency_key=f"k{i}",
            created_at=NOW,
            pay_by=date(2026, 12, 11),
        )
        for i, org in enumerate(organizations)
    ]


def run_writers(work):
    """Run work(i) in WRITERS threads, each on its own connection, released together."""
    barrier = threading.Barrier(WRITERS)
    errors = []

    def writer(i):
        try:
            barrier.wait()
            work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_writers_take_numbers_one_to_n(frozen):
    per_writer = 5
    orders = open_orders(WRITERS * per_writer)
    # No counter row for the year yet: the writers also race to create it.
    assert not InvoiceCounter.objects.exists()

    def work(i):
        for order in orders[i::WRITERS]:
            with transaction.atomic():
                issue_invoice(order)

    assert run_writers(work) == []
    numbers = sorted(Invoice.objects.filter(year=2026).values_list("number", flat=True))
    assert numbers == list(range(1, len(orders) + 1))
    assert InvoiceCounter.objects.get(year=2026).last_number == len(orders)


def test_rolled_back_orders_give_their_numbers_back(frozen):
    orders = open_orders(WRITERS * 2)

    def work(i):
        for n, order in enumerate(orders[i::WRITERS]):
            try:
                with transaction.atomic():
                    issue_invoice(order)
                    if n == 0 and i % 2:
                        raise RuntimeError("the order's transaction failed after the invoice")
            except RuntimeError:
                pass

    assert run_writers(work) == []
    issued = Invoice.objects.count()
    assert issued == len(orders) - WRITERS // 2
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, issued + 1))


def test_concurrent_issue_for_one_order_takes_one_number(frozen):
    (order,) = open_orders(1)
    got = []

    def work(i):
        with transaction.atomic():
            got.append(issue_invoice(Order.objects.get(pk=order.pk)).pk)

    assert run_writers(work) == []
    assert len(set(got)) == 1
    assert Invoice.objects.get().number == 1
    assert InvoiceCounter.objects.get(year=2026).last_number == 1
