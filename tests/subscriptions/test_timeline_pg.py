"""On PostgreSQL: one organization's timeline never overlaps, also under concurrency."""

from datetime import timedelta
from itertools import pairwise

import pytest
from django.db import IntegrityError, connection, transaction

from podpiska.billing.actions import place_order, record_payment
from podpiska.billing.models import Order
from podpiska.core import clock
from podpiska.subscriptions.models import Subscription
from tests.concurrency import run_threads
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_subscription, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_orders_of_one_organization_paid_at_once_follow_each_other():
    """Renewal and switches to three other tariffs, each paid by its own bank payment in
    its own thread at the same moment: four terms one after another, none overlapping."""
    clock.freeze(NOW)
    try:
        tariffs = catalog()
        owner = make_user()
        org = make_org(user=owner)
        current = make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
        orders = [
            place_order(organization=org, user=owner, kind=kind, payment_method="invoice",
                        idempotency_key=f"k-{code}", tariff=tariffs[code])
            for kind, code in [("renew", "200"), ("switch", "100"), ("switch", "400"),
                               ("switch", "max")]
        ]
        results, errors = run_threads(len(orders), lambda i: record_payment(
            source="statement", amount=orders[i].price, received_at=NOW,
            dedup_key=f"bank-doc-{i}", order=orders[i]))
        assert not errors, errors
        assert set(Order.objects.values_list("status", flat=True)) == {"fulfilled"}
        periods = list(Subscription.objects.filter(organization=org).order_by("starts_at")
                       .values_list("starts_at", "ends_at"))
        assert len(periods) == 5 and periods[0][1] == current.ends_at
        for (_, end), (start, _) in pairwise(periods):
            assert start == end  # each starts where the one before ends
    finally:
        clock.reset()


def test_the_database_refuses_an_overlap_whatever_writes_it():
    tariffs = catalog()
    org = make_org(user=make_user())
    first = make_subscription(org, tariffs["200"], NOW - timedelta(days=30))
    other = make_org(user=make_user("other@example.com"))
    make_subscription(other, tariffs["200"], NOW - timedelta(days=30))  # another org: fine
    with pytest.raises(IntegrityError, match="subscription_no_overlap"), transaction.atomic():
        make_subscription(org, tariffs["100"], first.ends_at - timedelta(seconds=1))
    # Back to back is no overlap: periods are half-open.
    make_subscription(org, tariffs["100"], first.ends_at)
    assert Subscription.objects.filter(organization=org).count() == 2
