"""A double click on «Оформить заказ» sends the same form twice at once: one order."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from podpiska.billing.models import Invoice, Order
from tests.conftest import NOW
from tests.factories import make_subscription
from tests.web.test_checkout import HX, checkout_data


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_places_one_order(tariffs, org, owner, clock):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrency")
    make_subscription(org, tariffs["200"], NOW - timedelta(days=355), ends_at=NOW + timedelta(days=10))
    first = Client()
    first.force_login(owner)
    data = checkout_data(first)
    barrier = threading.Barrier(4)
    statuses = []

    def submit():
        client = Client()
        client.force_login(owner)
        try:
            barrier.wait()
            statuses.append(client.post(reverse("web:checkout", args=["renew"]), data, **HX).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 4
    assert Order.objects.filter(organization=org).count() == 1
    assert Invoice.objects.count() == 1
