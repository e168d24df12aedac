"""On PostgreSQL: one organization's timeline never overlaps, also under concurrency."""

from datetime import timedelta
from itertools import pairwise

import pytest
from django.db import IntegrityError, connection, transaction

from podpiska.core import clock
from podpiska.subscriptions.models import Subscription
from tests.concurrency import run_threads
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_subscription, make_user, start_subscription

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_terms_of_one_organization_confirmed_at_once_follow_each_other():
    """Four paid terms of one organization confirmed in four threads at the same moment
    (an organization has one open order at a time, but a term order and, say, staff
    matching a queued payment can meet): one after another, none overlapping."""
    clock.freeze(NOW)
    try:
        tariffs = catalog()
        org = make_org(user=make_user())
        current = make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
        codes = ["200", "100", "400", "max"]
        _, errors = run_threads(len(codes), lambda i: start_subscription(
            organization=org, tariff=tariffs[codes[i]], terms=tariffs[codes[i]].terms(),
            confirmed_at=NOW))
        assert not errors, errors
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
