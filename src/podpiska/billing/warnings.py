"""The yellow expiry warning (SPEC §4): derived from the time, never stored."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings

from podpiska.core.business_days import subtract_business_days
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import coverage_end, last_day, last_ended_subscription


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


NO_WARNING = ExpiryWarning(WarningState.NONE)


def last_day_to_pay_by_transfer(last_covered_day: date) -> date:
    """The end date minus the bank's delay in business days (production calendar)."""
    return subtract_business_days(last_covered_day, settings.PODPISKA["BANK_DELAY_BUSINESS_DAYS"])


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


def expiry_warning(organization, at: datetime) -> ExpiryWarning:
    """Warn when paid coverage (scheduled renewals included) ends within the window.

    A paid renewal extends the coverage and so removes the warning; an ordered but
    unpaid one turns it into «ожидает оплаты».
    """
    end = coverage_end(organization, at)
    if end is None or end - at > timedelta(days=settings.PODPISKA["WARNING_DAYS"]):
        return NO_WARNING
    tz = organization.tz
    final_day = last_day(end, tz)
    state = (
        WarningState.AWAITING_PAYMENT if has_pending_renewal(organization) else WarningState.EXPIRING
    )
    return ExpiryWarning(
        state=state,
        ends_at=end,
        last_day=final_day,
        pay_by_bank_transfer=last_day_to_pay_by_transfer(final_day),
        days_left=(final_day - at.astimezone(tz).date()).days,
    )


@dataclass(frozen=True)
class LapsedNotice:
    """«Подписка «Компас 200» закончилась 01.10.2027. Сейчас действует бесплатный тариф»."""

    tariff_name: str
    last_day: date


def lapsed_notice(organization, at: datetime) -> LapsedNotice | None:
    """The notice that paid coverage has ended, until the organization pays again or
    hides it (`hide_lapsed_notice`, for a while); None when nothing is to be said."""
    if Subscription.objects.filter(organization=organization, ends_at__gt=at).exists():
        return None
    ended = last_ended_subscription(organization, at)
    if ended is None:
        return None
    tz = organization.tz
    hidden_until = organization.lapsed_notice_hidden_until
    if hidden_until is not None and at.astimezone(tz).date() < hidden_until:
        return None
    return LapsedNotice(ended.tariff_name, last_day(ended.ends_at, tz))
