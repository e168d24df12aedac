"""The yellow expiry warning (SPEC §4): derived from the time, never stored.

`expiry_facts` is the one place that says, of paid coverage ending at some moment, its
last day, the days left and the last day to pay by bank transfer: the menu's and the
API's warning (`expiry_warning`), the staff dashboard (`expiry_warnings`), the
reminder letters and the `subscription.expiring` event all take them from there.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.conf import settings

from podpiska.core.business_days import subtract_business_days
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.selectors import PaidTimeline
from podpiska.subscriptions.timeline import (
    chain_end,
    coverage_end,
    last_day,
    last_ended_subscription,
)


class WarningState:
    NONE = "none"
    EXPIRING = "expiring"
    AWAITING_PAYMENT = "awaiting_payment"


@dataclass(frozen=True)
class ExpiryWarning:
    state: str
    ends_at: datetime | None = None
    last_day: date | None = None
    pay_by_bank_transfer: date | None = None
    days_left: int | None = None

    @property
    def shown(self) -> bool:
        return self.state != WarningState.NONE

    @property
    def awaiting_payment(self) -> bool:
        return self.state == WarningState.AWAITING_PAYMENT


NO_WARNING = ExpiryWarning(WarningState.NONE)


def last_day_to_pay_by_transfer(last_covered_day: date) -> date:
    """The end date minus the bank's delay in business days (production calendar)."""
    return _pay_by(last_covered_day, settings.PODPISKA["BANK_DELAY_BUSINESS_DAYS"])


@lru_cache(maxsize=4096)
def _pay_by(day: date, delay: int) -> date:
    # Asked for the same few last days by thousands of organizations in one tick.
    return subtract_business_days(day, delay)


def has_pending_renewal(organization) -> bool:
    return organization.pk in organizations_with_pending_renewal([organization.pk])


def pending_renewals():
    """Orders for more time (not an add-on) placed and not paid yet: the «ожидает оплаты»
    of the warning and of the reminders."""
    from podpiska.billing.models import Order, OrderKind, OrderStatus

    return Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT).exclude(kind=OrderKind.ADDON)


def organizations_with_pending_renewal(organization_ids) -> set[int]:
    """Which of these organizations have a `pending_renewals` order."""
    return set(
        pending_renewals()
        .filter(organization_id__any_of=sorted(organization_ids))
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )


def expiry_facts(ends_at: datetime, tz, at: datetime, *, awaiting_payment: bool = False) -> ExpiryWarning:
    """What is said of paid coverage that ends at `ends_at`, as of `at`: its last day,
    the days left and the last day to pay by bank transfer; «ожидает оплаты» when a
    renewal is ordered and not paid."""
    final_day = last_day(ends_at, tz)
    return ExpiryWarning(
        state=WarningState.AWAITING_PAYMENT if awaiting_payment else WarningState.EXPIRING,
        ends_at=ends_at,
        last_day=final_day,
        pay_by_bank_transfer=last_day_to_pay_by_transfer(final_day),
        days_left=(final_day - at.astimezone(tz).date()).days,
    )


def warning_window() -> timedelta:
    return timedelta(days=settings.PODPISKA["WARNING_DAYS"])


def expiry_warning(organization, at: datetime, *, timeline: PaidTimeline | None = None) -> ExpiryWarning:
    """Warn when paid coverage (scheduled renewals included) ends within the window.

    A paid renewal extends the coverage and so removes the warning; an ordered but
    unpaid one turns it into «ожидает оплаты». `timeline`: the organization's paid
    timeline at `at` when the caller has fetched it (the menu).
    """
    end = timeline.coverage_end if timeline is not None else coverage_end(organization, at)
    if end is None or end - at > warning_window():
        return NO_WARNING
    return expiry_facts(end, organization.tz, at, awaiting_payment=has_pending_renewal(organization))


def expiry_warnings(at: datetime) -> list[tuple[Subscription, ExpiryWarning]]:
    """Every organization whose warning shows at `at`, with its subscription in force
    (organization read along), soonest last day first: `expiry_warning` for all of them
    with three queries, whatever their number (the staff dashboard)."""
    in_force = list(
        Subscription.objects.filter(starts_at__lte=at, ends_at__gt=at, ends_at__lte=at + warning_window())
        .select_related("organization")
    )
    if not in_force:
        return []
    ids = sorted({subscription.organization_id for subscription in in_force})
    periods: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for org_id, starts_at, ends_at in (
        Subscription.objects.filter(organization_id__any_of=ids, ends_at__gt=at)
        .order_by("organization_id", "starts_at")
        .values_list("organization_id", "starts_at", "ends_at")
    ):
        periods[org_id].append((starts_at, ends_at))
    pending = organizations_with_pending_renewal(ids)
    shown = []
    for subscription in in_force:
        org_id = subscription.organization_id
        end = chain_end(periods[org_id], at)
        if end is None or end - at > warning_window():
            continue  # a paid renewal continues it
        facts = expiry_facts(end, subscription.organization.tz, at, awaiting_payment=org_id in pending)
        shown.append((subscription, facts))
    return sorted(shown, key=lambda item: (item[1].last_day, item[0].organization_id))


@dataclass(frozen=True)
class LapsedNotice:
    """«Подписка «Компас 200» закончилась 01.10.2027. Сейчас действует бесплатный тариф»."""

    tariff_name: str
    last_day: date


def lapsed_notice(organization, at: datetime, *, timeline: PaidTimeline | None = None) -> LapsedNotice | None:
    """The notice that paid coverage has ended, until the organization pays again or
    hides it (`hide_lapsed_notice`, for a while); None when nothing is to be said.
    `timeline`: the organization's paid timeline at `at`, when already fetched."""
    if timeline is not None:
        paid_ahead = bool(timeline.subscriptions)
    else:
        paid_ahead = Subscription.objects.filter(organization=organization, ends_at__gt=at).exists()
    if paid_ahead:
        return None
    ended = last_ended_subscription(organization, at)
    if ended is None:
        return None
    tz = organization.tz
    hidden_until = organization.lapsed_notice_hidden_until
    if hidden_until is not None and at.astimezone(tz).date() < hidden_until:
        return None
    return LapsedNotice(ended.tariff_name, last_day(ended.ends_at, tz))
