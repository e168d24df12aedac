"""«Улучшить подписку»: the more capacious tariff picked for the organization (SPEC §4)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from podpiska.catalog.models import LimitReset, Tariff
from podpiska.catalog.tariffs import on_sale
from podpiska.subscriptions.models import Subscription

# Too little of the term has passed to extrapolate; below this, take the next rank up.
MIN_DAYS_FOR_FORECAST = 7


@dataclass(frozen=True)
class Upgrade:
    tariff: Tariff
    reason: str
    forecast: int | None


def capacity_per_term(tariff: Tariff) -> int:
    if tariff.limit_reset == LimitReset.MONTH:
        return tariff.export_limit * tariff.term_months
    return tariff.export_limit


def forecast_use(subscription: Subscription, used: int, at: datetime) -> int | None:
    """Use over a whole term if the pace so far continues; None if too early to tell."""
    elapsed = (min(at, subscription.ends_at) - subscription.starts_at).total_seconds()
    term = (subscription.ends_at - subscription.starts_at).total_seconds()
    if elapsed < MIN_DAYS_FOR_FORECAST * 86400 or term <= 0:
        return None
    # Integer arithmetic on whole seconds: ceil(used * term / elapsed).
    return -(-used * int(term) // int(elapsed))


def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def pick_upgrade(
    subscription: Subscription, used: int, at: datetime, *, above: Tariff | None = None
) -> Upgrade | None:
    """The smallest higher-rank tariff whose limit covers the forecast, else the next rank up.

    The forecast comes from `subscription` (the one in force); candidates rank above
    `above` (default: its tariff; a paid scheduled upgrade raises the bar).
    None on the maximum tariff (nothing of a higher rank is on sale).
    """
    current_rank = (above or subscription.tariff).rank
    higher = [t for t in on_sale() if t.rank > current_rank]
    if not higher:
        return None
    forecast = forecast_use(subscription, used, at)
    if forecast is not None:
        for tariff in higher:
            if capacity_per_term(tariff) >= forecast:
                if forecast > subscription.total_limit:
                    reason = ngettext(
                        "С начала подписки выгружено %(used)s карточка; при таком темпе за срок "
                        "понадобится около %(forecast)s — больше лимита текущего тарифа (%(limit)s). "
                        "Лимита тарифа «%(tariff)s» (%(capacity)s) хватит.",
                        "С начала подписки выгружено %(used)s карточек; при таком темпе за срок "
                        "понадобится около %(forecast)s — больше лимита текущего тарифа (%(limit)s). "
                        "Лимита тарифа «%(tariff)s» (%(capacity)s) хватит.",
                        used,
                    ) % {
                        "used": _fmt(used),
                        "forecast": _fmt(forecast),
                        "limit": _fmt(subscription.total_limit),
                        "tariff": tariff.name,
                        "capacity": _fmt(capacity_per_term(tariff)),
                    }
                else:
                    reason = _(
                        "При нынешнем темпе (около %(forecast)s за срок) лимита хватает; "
                        "«%(tariff)s» — следующий по ёмкости тариф с лимитом %(capacity)s."
                    ) % {"forecast": _fmt(forecast), "tariff": tariff.name, "capacity": _fmt(capacity_per_term(tariff))}
                return Upgrade(tariff, reason, forecast)
    tariff = higher[0]
    if forecast is None:
        reason = _(
            "Подписка началась недавно, прогноз пока не построить; «%(tariff)s» — "
            "следующий по ёмкости тариф с лимитом %(capacity)s."
        ) % {"tariff": tariff.name, "capacity": _fmt(capacity_per_term(tariff))}
    else:
        reason = _(
            "При нынешнем темпе за срок понадобится около %(forecast)s выгрузок — "
            "больше, чем даёт любой тариф; «%(tariff)s» — следующий по ёмкости."
        ) % {"forecast": _fmt(forecast), "tariff": tariff.name}
    return Upgrade(tariff, reason, forecast)
