"""The subscription timeline (SPEC §3): half-open periods that never overlap.

Status is derived from the time; nothing here is stored state. A purchase starts at
`start_after`: the later of the payment's confirmation and the end of the latest paid
subscription, so a renewal or upgrade bought early waits for the current one to end;
`term_after` goes on from that start to the term's end and last day.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from podpiska.subscriptions.models import Subscription, SubscriptionStatus


def status_of(subscription: Subscription, at: datetime) -> SubscriptionStatus:
    if at < subscription.starts_at:
        return SubscriptionStatus.SCHEDULED
    if at < subscription.ends_at:
        return SubscriptionStatus.ACTIVE
    return SubscriptionStatus.ENDED


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31.01 + 1 -> 28/29.02)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_end(starts_at: datetime, term_months: int, tz: ZoneInfo) -> datetime:
    """End of a term that starts at `starts_at`.

    A term that starts mid-day runs to the end of that calendar day `term_months` later,
    so the customer gets the whole last day the invoice promised («по 27.11.2027
    включительно»); a term that starts at midnight (a renewal chained to the previous
    end) ends at midnight `term_months` later.
    """
    local = starts_at.astimezone(tz)
    first_full_day = local.date() if local.time() == time.min else local.date() + timedelta(days=1)
    return local_midnight(add_months(first_full_day, term_months), tz)


def last_day(ends_at: datetime, tz: ZoneInfo) -> date:
    """The last day of a half-open period, inclusive, in the organization's time zone."""
    return (ends_at - timedelta(microseconds=1)).astimezone(tz).date()


def current_subscription(organization, at: datetime) -> Subscription | None:
    """The paid subscription in force at `at`, or None (the free tariff)."""
    return (
        Subscription.objects.filter(organization=organization, starts_at__lte=at, ends_at__gt=at)
        .select_related("tariff")
        .first()
    )


def latest_paid_end(organization) -> datetime | None:
    latest = (
        Subscription.objects.filter(organization=organization)
        .order_by("-ends_at")
        .values_list("ends_at", flat=True)
        .first()
    )
    return latest


def start_after(latest_end: datetime | None, at: datetime) -> datetime:
    """When a purchase confirmed at `at` starts, given the end of the organization's latest
    paid subscription (None: it has none): max(at, that end)."""
    return max(at, latest_end) if latest_end else at


@dataclass(frozen=True, slots=True)
class Term:
    """A term as bought: when it starts, when it ends and its first and last day in the
    organization's calendar. Made by `term_after`, the one place that goes from a start
    to an end to a last day, whether for an offer shown, an invoice's line or the
    subscription a payment starts.

    `follows_paid` — it starts when the paid subscriptions end (a renewal bought
    early), so the start stays unless the payment comes later than that day; otherwise
    it starts at the moment of purchase (the day the payment is confirmed).
    """

    starts_at: datetime
    ends_at: datetime
    tz: ZoneInfo
    follows_paid: bool

    @property
    def starts_on(self) -> date:
        return self.starts_at.astimezone(self.tz).date()

    @property
    def last_day(self) -> date:
        return last_day(self.ends_at, self.tz)


def term_after(latest_end: datetime | None, term_months: int, at: datetime, tz: ZoneInfo) -> Term:
    """The term of `term_months` bought at `at` by an organization whose paid
    subscriptions end at `latest_end` (None: it has none): it starts by `start_after`
    and ends by `period_end`."""
    starts_at = start_after(latest_end, at)
    return Term(starts_at, period_end(starts_at, term_months, tz), tz, starts_at > at)


def planned_term(organization, term_months: int, at: datetime) -> Term:
    """When a term bought at `at` would run: the rule fulfilment applies."""
    return term_after(latest_paid_end(organization), term_months, at, organization.tz)


def coverage_end(organization, at: datetime) -> datetime | None:
    """End of the unbroken paid coverage that contains `at` (scheduled renewals included).

    None when no paid subscription is in force at `at`.
    """
    periods = Subscription.objects.filter(organization=organization, ends_at__gt=at).order_by(
        "starts_at"
    ).values_list("starts_at", "ends_at")
    return chain_end(periods, at)


def chain_end(periods, at: datetime) -> datetime | None:
    """The rule of `coverage_end` over one organization's (starts_at, ends_at) periods,
    ordered by start: the tick applies it to many organizations read at once."""
    end = None
    for starts_at, ends_at in periods:
        if ends_at <= at:
            continue
        if end is None:
            if starts_at > at:
                return None
            end = ends_at
        elif starts_at <= end:
            end = max(end, ends_at)
        else:
            break
    return end


def last_ended_subscription(organization, at: datetime) -> Subscription | None:
    return (
        Subscription.objects.filter(organization=organization, ends_at__lte=at)
        .select_related("tariff")
        .order_by("-ends_at")
        .first()
    )
