"""Start → end → last day of a term is worked out in one place (`timeline.term_after`):
the variant offered, an individual offer's window, the invoice's line and the
subscription the payment starts (one payment or a statement's batch) name the same
days."""

from datetime import date, timedelta

import pytest

from podpiska.billing.actions import record_payment
from podpiska.billing.invoices import invoice_line
from podpiska.catalog.actions import make_offer
from podpiska.subscriptions.availability import available_actions
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.selectors import fetch_paid_timeline
from podpiska.subscriptions.timeline import planned_term
from podpiska.web.choices import find_choice
from tests.conftest import NOW
from tests.factories import make_subscription, make_user, start_subscription

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("paid_ahead", [True, False])
def test_offered_invoiced_and_started_terms_are_the_same(clock, tariffs, org, owner, order_for, paid_ahead):
    if paid_ahead:
        make_subscription(org, tariffs["200"], NOW - timedelta(days=300))  # to 31.01.2027
        starts_on, last = date(2027, 2, 1), date(2028, 1, 31)
    else:
        make_subscription(org, tariffs["200"], NOW - timedelta(days=400), ends_at=NOW - timedelta(days=30))
        starts_on, last = NOW.date(), date(2027, 11, 27)  # from the next midnight, 12 months
    kind = "renew" if paid_ahead else "resume"
    actions = available_actions(org, NOW)
    variant = actions.variant_of(kind)
    assert (variant.term.starts_on, variant.term.last_day) == (starts_on, last)
    assert planned_term(org, 12, NOW) == fetch_paid_timeline(org, NOW).term(12) == variant.term

    offer = make_offer(organization=org, staff_user=make_user(is_staff=True), tariff=tariffs["400"],
                       price=1_00, valid_until=NOW.date() + timedelta(days=14))
    choice = find_choice(org, available_actions(org, NOW), "offer", offer_id=str(offer.pk))
    assert (choice.starts_on, choice.last_day) == (starts_on, last)

    order = order_for(org, owner, kind=kind, tariff=variant.tariff)
    assert (f"с {starts_on:%d.%m.%Y} — после окончания" in invoice_line(order)) == paid_ahead
    record_payment(source="manual", amount=order.price, received_at=NOW, dedup_key="d", order=order)
    paid = Subscription.objects.get(order=order)
    assert (paid.starts_at, paid.ends_at) == (variant.starts_at, variant.ends_at)

    # The batch path (`start_subscriptions`) chains the next term the same way.
    after = fetch_paid_timeline(org, NOW).term(12)
    batch = start_subscription(organization=org, tariff=variant.tariff, terms=variant.tariff.terms(),
                               confirmed_at=NOW)
    assert (batch.starts_at, batch.ends_at) == (after.starts_at, after.ends_at) and after.follows_paid
