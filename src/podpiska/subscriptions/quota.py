"""The export limit of the current period and what has been used of it.

Paid tariffs count per subscription term (or per calendar month when the tariff says
so); the free tariff counts per calendar month: its first-export allowance
(`Tariff.first_period_limit`, 50) until the organization has exported anything, then
`export_limit` (20). Periods are rows of `QuotaPeriod`; consumption is a conditional
UPDATE on that row (check and count in one step).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from podpiska.audit.log import record
from podpiska.catalog.models import LimitReset, Tariff
from podpiska.subscriptions.models import QuotaPeriod, Subscription
from podpiska.subscriptions.timeline import add_months, current_subscription, local_midnight


@dataclass(frozen=True)
class PeriodSpec:
    starts_at: datetime
    ends_at: datetime
    limit: int
    field_set: str
    subscription: Subscription | None
    tariff_name: str


def free_tariff() -> Tariff:
    return Tariff.objects.filter(is_free=True).order_by("rank").first()


def _month_bounds(at: datetime, tz) -> tuple[datetime, datetime]:
    local = at.astimezone(tz).date().replace(day=1)
    return local_midnight(local, tz), local_midnight(add_months(local, 1), tz)


def period_spec(organization, at: datetime) -> PeriodSpec:
    """Which limit period `at` falls in, and its limit."""
    tz = organization.tz
    subscription = current_subscription(organization, at)
    if subscription is not None:
        if subscription.limit_reset == LimitReset.MONTH:
            starts, ends = _month_bounds(at, tz)
            starts, ends = max(starts, subscription.starts_at), min(ends, subscription.ends_at)
        else:
            starts, ends = subscription.starts_at, subscription.ends_at
        return PeriodSpec(
            starts, ends, subscription.total_limit, subscription.field_set, subscription,
            subscription.tariff_name,
        )
    tariff = free_tariff()
    starts, ends = _month_bounds(at, tz)
    # A free month can be cut short by a paid subscription starting in it.
    next_paid = (
        Subscription.objects.filter(organization=organization, starts_at__gt=at)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    if next_paid and next_paid < ends:
        ends = next_paid
    previous_paid_end = (
        Subscription.objects.filter(organization=organization, ends_at__lte=at, ends_at__gt=starts)
        .order_by("-ends_at")
        .values_list("ends_at", flat=True)
        .first()
    )
    if previous_paid_end:
        starts = previous_paid_end
    limit = tariff.export_limit
    if tariff.first_period_limit is not None and not has_ever_exported(organization, before=starts):
        limit = tariff.first_period_limit
    return PeriodSpec(starts, ends, limit, tariff.field_set, None, tariff.name)


def has_ever_exported(organization, before: datetime) -> bool:
    return QuotaPeriod.objects.filter(
        organization=organization, starts_at__lt=before, used__gt=0
    ).exists()


def current_period(organization, at: datetime) -> QuotaPeriod:
    """The period row for `at`, created on first use (safe under concurrency)."""
    spec = period_spec(organization, at)
    period = QuotaPeriod.objects.filter(organization=organization, starts_at=spec.starts_at).first()
    if period is not None:
        return period
    try:
        with transaction.atomic():
            return QuotaPeriod.objects.create(
                organization=organization,
                subscription=spec.subscription,
                starts_at=spec.starts_at,
                ends_at=spec.ends_at,
                limit=spec.limit,
                field_set=spec.field_set,
            )
    except IntegrityError:
        # Another request created it first; use theirs.
        return QuotaPeriod.objects.get(organization=organization, starts_at=spec.starts_at)


def used_during(subscription: Subscription) -> int:
    """Exports used over a subscription so far (all its periods)."""
    return sum(
        QuotaPeriod.objects.filter(subscription=subscription).values_list("used", flat=True)
    )


@transaction.atomic
def add_extra_exports(subscription: Subscription, extra: int, *, actor=None, at: datetime) -> None:
    """An add-on: raise the subscription's limit and that of its period in force."""
    if extra <= 0:
        raise ValueError("extra exports must be positive")
    before = subscription.extra_exports
    Subscription.objects.filter(pk=subscription.pk).update(extra_exports=F("extra_exports") + extra)
    QuotaPeriod.objects.filter(subscription=subscription, starts_at__lte=at, ends_at__gt=at).update(
        limit=F("limit") + extra
    )
    subscription.refresh_from_db()
    record(
        "subscription.extra_exports_added",
        subscription,
        actor=actor,
        before={"extra_exports": before},
        after={"extra_exports": subscription.extra_exports},
    )
