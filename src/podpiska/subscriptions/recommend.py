"""«Улучшить подписку»: the more capacious tariff picked for the organization (SPEC §4)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils.translation import gettext as _

from podpiska.catalog.models import FieldSet, LimitReset, Tariff
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


def run_out_day(subscription: Subscription, used: int, at: datetime) -> date | None:
    """The day the limit runs out if the pace so far continues; None when it lasts the
    term (or nothing is used yet)."""
    elapsed = (min(at, subscription.ends_at) - subscription.starts_at).total_seconds()
    if used <= 0 or elapsed <= 0:
        return None
    seconds = int(elapsed) * subscription.total_limit // used
    runs_out = subscription.starts_at + timedelta(seconds=seconds)
    if runs_out >= subscription.ends_at:
        return None
    return max(runs_out, at).astimezone(subscription.organization.tz).date()


def _gains(tariff: Tariff, base: Tariff) -> str:
    """What `tariff` gives over `base`, said as a reason to take it."""
    words = {"tariff": tariff.name, "capacity": _fmt(capacity_per_term(tariff)),
             "base": _fmt(capacity_per_term(base))}
    if tariff.field_set == FieldSet.EXTENDED and base.field_set != FieldSet.EXTENDED:
        return _(
            "«%(tariff)s» даёт %(capacity)s выгрузок за срок вместо %(base)s и расширенный "
            "набор полей (телефоны, e-mail, сайты, выручка, руководитель)."
        ) % words
    return _("«%(tariff)s» даёт %(capacity)s выгрузок за срок вместо %(base)s.") % words


def pick_upgrade(
    subscription: Subscription, used: int, at: datetime, *, above: Tariff | None = None,
    sale: list[Tariff] | None = None,
) -> Upgrade | None:
    """The smallest higher-rank tariff whose limit covers the forecast, else the next rank up.

    The forecast comes from `subscription` (the one in force); candidates rank above
    `above` (default: its tariff; a paid scheduled subscription of a higher rank raises
    the bar). None when nothing of a higher rank is on sale. The reason argues for the
    purchase: when the limit runs out at this pace, and what the tariff adds.
    `sale`: the tariffs on sale, when the caller has read them already.
    """
    base = above or subscription.tariff
    higher = [t for t in (on_sale() if sale is None else sale) if t.rank > base.rank]
    if not higher:
        return None
    forecast = forecast_use(subscription, used, at)
    runs_out = run_out_day(subscription, used, at) if forecast is not None else None
    pace = (
        _("При нынешнем темпе лимит закончится ~%(day)s, раньше конца подписки. ")
        % {"day": f"{runs_out:%d.%m.%Y}"}
        if runs_out
        else ""
    )
    if forecast is not None:
        for tariff in higher:
            if capacity_per_term(tariff) >= forecast:
                if runs_out:
                    reason = pace + _(
                        "Лимита тарифа «%(tariff)s» (%(capacity)s) хватит на весь срок при "
                        "таком темпе."
                    ) % {"tariff": tariff.name, "capacity": _fmt(capacity_per_term(tariff))}
                else:
                    reason = _gains(tariff, base)
                return Upgrade(tariff, reason, forecast)
    tariff = higher[0]
    if forecast is None:
        reason = _("Подписка началась недавно, прогноз пока не построить. ") + _gains(tariff, base)
    else:
        reason = pace + _(
            "«%(tariff)s» — следующий по ёмкости тариф: %(capacity)s выгрузок за срок."
        ) % {"tariff": tariff.name, "capacity": _fmt(capacity_per_term(tariff))}
    return Upgrade(tariff, reason, forecast)
