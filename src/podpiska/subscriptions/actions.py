"""State changes of the timeline: each one transaction with its audit record."""

from datetime import datetime

from django.db import transaction

from podpiska.accounts.models import Organization
from podpiska.audit.log import record, snapshot
from podpiska.catalog.models import Tariff
from podpiska.core import clock
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import next_start, period_end


def lock_organization(organization: Organization) -> Organization:
    """Serialise changes of one organization's timeline and quota (row lock)."""
    return Organization.objects.select_for_update().get(pk=organization.pk)


@transaction.atomic
def start_subscription(
    *,
    organization: Organization,
    tariff: Tariff,
    terms: dict,
    confirmed_at: datetime,
    order=None,
    actor=None,
) -> Subscription:
    """Create the paid subscription a confirmed purchase buys, at its computed start."""
    organization = lock_organization(organization)
    starts_at = next_start(organization, confirmed_at)
    subscription = Subscription.objects.create(
        organization=organization,
        tariff=tariff,
        order=order,
        starts_at=starts_at,
        ends_at=period_end(starts_at, terms["term_months"], organization.tz),
        created_at=clock.now(),
        **terms,
    )
    record("subscription.created", subscription, actor=actor, after=snapshot(subscription))
    return subscription
