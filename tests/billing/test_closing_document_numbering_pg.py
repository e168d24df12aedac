"""УПД numbering under real concurrency (PostgreSQL): fulfilments by hand, by card and
by statements at once take numbers 1..N of the year, no gap, no repeat, one per order."""

import pytest
from django.db import connection

from podpiska.billing.actions import place_order, record_payment
from podpiska.billing.models import ClosingDocument, ClosingDocumentCounter, OrderStatus
from podpiska.billing.statements.importer import import_statement
from podpiska.billing.upd import upd_data
from podpiska.billing.upd_xml import render_upd_xml
from podpiska.core import clock
from tests.billing.statements.test_import import payment, statement
from tests.billing.upd_schema import assert_valid_upd
from tests.concurrency import run_threads
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


def _orders(count: int):
    tariff = catalog()["400"]
    orders = []
    for i in range(count):
        owner = make_user()
        org = make_org(user=owner)
        orders.append(place_order(organization=org, user=owner, kind="default_offer",
                                  payment_method="invoice", idempotency_key=f"k{i}", tariff=tariff))
    return orders


def test_concurrent_fulfilments_number_without_gaps_or_repeats(frozen):
    orders = _orders(WRITERS * 3)
    by_hand = orders[: WRITERS * 2]
    by_statement = orders[WRITERS * 2 :]
    # No counter row for the year yet: the first issuers also race to create it.
    assert not ClosingDocumentCounter.objects.exists()

    def work(i):
        if i == 0:
            # A statement paying several orders in one batch, alongside the others.
            return import_statement(statement([payment(order) for order in by_statement]),
                                    file_name="day.txt")
        for order in by_hand[i - 1 :: WRITERS - 1]:
            record_payment(source="manual", amount=order.price, received_at=NOW,
                           dedup_key=f"doc-{order.pk}", order=order, doc_number=str(order.pk),
                           doc_date=NOW.date())
        return None

    _, errors = run_threads(WRITERS, work)
    assert not errors, errors
    numbers = sorted(ClosingDocument.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(orders) + 1))
    assert ClosingDocumentCounter.objects.get(year=2026).last_number == len(orders)
    assert set(ClosingDocument.objects.values_list("order_id", flat=True)) == {o.pk for o in orders}
    for document in ClosingDocument.objects.all():
        assert document.order.status == OrderStatus.FULFILLED


def test_the_same_payment_confirmed_at_once_issues_one_document(frozen):
    [order] = _orders(1)
    _, errors = run_threads(WRITERS, lambda i: record_payment(
        source="manual", amount=order.price, received_at=NOW, dedup_key="same-doc", order=order,
        doc_number="7", doc_date=NOW.date()))
    assert not errors, errors
    [document] = ClosingDocument.objects.all()
    assert document.number == 1 and ClosingDocumentCounter.objects.get(year=2026).last_number == 1
    assert_valid_upd(render_upd_xml(upd_data(document)))
