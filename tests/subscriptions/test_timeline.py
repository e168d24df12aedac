from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podpiska.subscriptions.models import Subscription, SubscriptionStatus
from podpiska.subscriptions.timeline import (
    add_months,
    coverage_end,
    current_subscription,
    last_day,
    period_end,
    planned_term,
    status_of,
)
from tests.conftest import NOW
from tests.factories import make_org, make_subscription, start_subscription

MSK = ZoneInfo("Europe/Moscow")


def test_period_end_from_midnight_and_from_mid_day():
    assert period_end(datetime(2026, 1, 1, tzinfo=MSK), 12, MSK) == datetime(2027, 1, 1, tzinfo=MSK)
    # Paid at 14:37: the customer gets the whole of 27.11.2027.
    end = period_end(datetime(2026, 11, 27, 14, 37, tzinfo=MSK), 12, MSK)
    assert end == datetime(2027, 11, 28, tzinfo=MSK)
    assert last_day(end, MSK) == date(2027, 11, 27)


def test_add_months_clamps_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 2, 28), 12) == date(2028, 2, 28)
    assert add_months(date(2026, 12, 15), -12) == date(2025, 12, 15)


def test_status_is_derived_from_time(tariffs, org):
    sub = make_subscription(org, tariffs["200"], NOW)
    assert status_of(sub, NOW - timedelta(seconds=1)) == SubscriptionStatus.SCHEDULED
    assert status_of(sub, NOW) == SubscriptionStatus.ACTIVE
    assert status_of(sub, sub.ends_at - timedelta(microseconds=1)) == SubscriptionStatus.ACTIVE
    assert status_of(sub, sub.ends_at) == SubscriptionStatus.ENDED


def test_renewal_bought_early_starts_when_the_current_one_ends(tariffs, org):
    current = make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    renewal = start_subscription(
        organization=org, tariff=tariffs["400"], terms=tariffs["400"].terms(), confirmed_at=NOW
    )
    assert renewal.starts_at == current.ends_at
    assert current_subscription(org, NOW) == current
    assert coverage_end(org, NOW) == renewal.ends_at
    current.refresh_from_db()
    assert current.tariff_name == "Компас 200"  # the current one is unchanged


def test_payment_after_the_end_starts_at_arrival(tariffs, org):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=400))
    sub = start_subscription(
        organization=org, tariff=tariffs["200"], terms=tariffs["200"].terms(), confirmed_at=NOW
    )
    assert sub.starts_at == NOW
    assert coverage_end(org, NOW - timedelta(days=1)) is None


def test_terms_are_copied(tariffs, org):
    sub = start_subscription(
        organization=org, tariff=tariffs["100"], terms=tariffs["100"].terms(), confirmed_at=NOW
    )
    tariffs["100"].price = 1
    tariffs["100"].export_limit = 1
    tariffs["100"].save()
    sub.refresh_from_db()
    assert (sub.price, sub.export_limit) == (52_800_00, 3_000)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 800), st.sampled_from(["100", "200", "400"])), min_size=1, max_size=6))
def test_purchases_never_overlap_and_start_at_max_of_confirmation_and_latest_end(tariffs, purchases):
    org = make_org()
    confirmed = NOW
    for days, code in purchases:
        confirmed = confirmed + timedelta(days=days)
        planned = planned_term(org, tariffs[code].term_months, confirmed)
        before = list(Subscription.objects.filter(organization=org).values_list("ends_at", flat=True))
        expected = max([confirmed, *before])
        sub = start_subscription(
            organization=org, tariff=tariffs[code], terms=tariffs[code].terms(), confirmed_at=confirmed
        )
        assert sub.starts_at == expected == planned.starts_at and sub.ends_at == planned.ends_at
    subs = list(Subscription.objects.filter(organization=org).order_by("starts_at"))
    for a, b in zip(subs, subs[1:], strict=False):
        assert a.ends_at <= b.starts_at
