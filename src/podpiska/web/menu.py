"""What the header's organization menu shows, gathered from the domain's selectors.

Fetched once per request (`menu_for`) and shared by the header, the page (settings,
home, the windows) and checkout: the paid timeline is read once and passed to the
actions, the warning and the lapsed notice.

Read-only: the page never creates a quota period just by being looked at, so the used
count is read from the period row if one exists (none yet means nothing used).
"""

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db.models import Case, When

from podpiska.billing.models import Order, OrderKind, OrderStatus
from podpiska.billing.warnings import (
    ExpiryWarning,
    LapsedNotice,
    expiry_warning,
    lapsed_notice,
)
from podpiska.core import clock
from podpiska.subscriptions import quota
from podpiska.subscriptions.availability import Actions, available_actions
from podpiska.subscriptions.selectors import fetch_paid_timeline
from podpiska.subscriptions.timeline import last_day

# Share of the limit used from which the gauge turns yellow, then red.
WARN_SHARE = 0.7
HIGH_SHARE = 0.9


@dataclass(frozen=True)
class Gauge:
    used: int
    limit: int

    @property
    def share(self) -> float:
        return min(self.used / self.limit, 1.0) if self.limit else 1.0

    @property
    def percent(self) -> int:
        return round(self.share * 100)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def level(self) -> str:
        if self.share >= HIGH_SHARE:
            return "high"
        if self.share >= WARN_SHARE:
            return "warn"
        return "ok"

    @property
    def needle_angle(self) -> float:
        """Degrees from the left end of the dial (-90) to the right end (+90)."""
        return round(-90 + 180 * self.share, 1)


@dataclass(frozen=True)
class Scheduled:
    """A paid subscription still to come, as the menu and settings list it."""

    tariff_name: str
    starts_on: date
    last_day: date


@dataclass(frozen=True)
class OrgMenu:
    organization: object
    membership: object
    other_memberships: list
    gauge: Gauge
    tariff_name: str
    period_last_day: date
    paid_until: date | None
    actions: Actions
    warning: ExpiryWarning
    pending_order: Order | None
    scheduled: list[Scheduled]
    lapsed: LapsedNotice | None

    @property
    def can_buy(self) -> bool:
        return self.membership.can_manage


def usage_gauge(organization, at: datetime) -> tuple[Gauge, quota.PeriodSpec]:
    spec, limit, used = quota.period_usage(organization, at)
    return Gauge(used, limit), spec


def pending_order(organization) -> Order | None:
    """The unpaid order to show: the term order first (at most one), else an add-on."""
    return (
        Order.objects.filter(organization=organization, status=OrderStatus.AWAITING_PAYMENT)
        .select_related("invoice")
        .order_by(Case(When(kind=OrderKind.ADDON, then=1), default=0), "-created_at", "-id")
        .first()
    )


def org_menu(request, at: datetime) -> OrgMenu | None:
    membership = request.membership
    if not membership:
        return None
    organization = membership.organization
    gauge, spec = usage_gauge(organization, at)
    timeline = fetch_paid_timeline(organization, at)
    actions = available_actions(organization, at, timeline=timeline)
    tz = organization.tz
    return OrgMenu(
        organization=organization,
        membership=membership,
        other_memberships=[
            m for m in request.memberships if m.organization_id != organization.pk
        ],
        gauge=gauge,
        tariff_name=spec.tariff_name,
        period_last_day=last_day(spec.ends_at, tz),
        paid_until=last_day(actions.current.ends_at, tz) if actions.current else None,
        actions=actions,
        warning=expiry_warning(organization, at, timeline=timeline),
        pending_order=pending_order(organization),
        scheduled=[
            Scheduled(s.tariff_name, s.starts_at.astimezone(tz).date(), last_day(s.ends_at, tz))
            for s in timeline.scheduled
        ],
        lapsed=lapsed_notice(organization, at, timeline=timeline),
    )


def menu_for(request, *, orders_changed: bool = False) -> OrgMenu | None:
    """The menu of this request, fetched once.

    `orders_changed`: this request has just placed (or cancelled) an order. Only what
    orders decide is read again — the unpaid order shown and the warning's «ожидает
    оплаты»; the subscriptions, the limit and what may be bought are as they were.
    """
    if not hasattr(request, "_org_menu"):
        request._org_menu = org_menu(request, clock.now())
    elif orders_changed and request._org_menu is not None:
        menu = request._org_menu
        organization = menu.organization
        request._org_menu = replace(
            menu,
            pending_order=pending_order(organization),
            warning=expiry_warning(organization, menu.actions.timeline.at, timeline=menu.actions.timeline),
        )
    return request._org_menu
