"""Concurrency on PostgreSQL: the same statement imported twice at once credits once."""

import threading

import pytest
from django.db import connection, connections

from podpiska.billing.actions import place_order
from podpiska.billing.models import Order, OrderStatus, Payment, PaymentState
from podpiska.billing.statements.importer import import_statement
from podpiska.core import clock
from podpiska.subscriptions.models import Subscription
from tests.billing.statements.test_import import payment, statement
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

ORDERS = 12


def test_two_imports_of_one_file_at_once_credit_each_payment_once():
    clock.freeze(NOW)
    try:
        tariffs = catalog()
        orders = []
        for i in range(ORDERS):
            owner = make_user()
            org = make_org(user=owner)
            orders.append(
                place_order(
                    organization=org,
                    user=owner,
                    kind="default_offer",
                    payment_method="invoice",
                    idempotency_key=f"k{i}",
                    tariff=tariffs["400"],
                )
            )
        documents = [payment(order) for order in orders]
        documents += [payment(order, purpose="Оплата без номера счёта") for order in orders]
        data = statement(documents)

        barrier = threading.Barrier(2)
        reports, errors = [], []

        def worker():
            try:
                barrier.wait()
                reports.append(import_statement(data, file_name="same.txt"))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert not errors, errors
        assert sum(r.matched for r in reports) == ORDERS
        assert sum(r.queued for r in reports) == ORDERS
        assert sum(r.duplicates for r in reports) == 2 * ORDERS
        assert Payment.objects.count() == 2 * ORDERS
        assert Payment.objects.filter(state=PaymentState.APPLIED).count() == ORDERS
        assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.FULFILLED}
        for order in orders:
            assert Subscription.objects.filter(order=order).count() == 1
    finally:
        clock.reset()
