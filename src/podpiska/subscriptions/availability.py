"""What an organization may do right now (SPEC §4): the one function every screen,
the API and the back-office ask.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.catalog.tariffs import default_offer_tariff, is_maximum, on_sale, sellable_version
from podpiska.subscriptions import quota
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.recommend import pick_upgrade
from podpiska.subscriptions.selectors import PaidTimeline, fetch_paid_timeline
from podpiska.subscriptions.timeline import Term, last_ended_subscription


class State:
    PAID = "paid"
    FREE_AFTER_PAID = "free_after_paid"
    FREE_NEVER_PAID = "free_never_paid"


@dataclass(frozen=True)
class Variant:
    """One way to buy: the tariff and the period it would cover if paid at `at`."""

    kind: str  # an OrderKind value
    tariff: Tariff
    term: Term
    reason: str = ""

    @property
    def starts_at(self) -> datetime:
        return self.term.starts_at

    @property
    def ends_at(self) -> datetime:
        return self.term.ends_at

    @property
    def last_day(self) -> date:
        return self.term.last_day

    @property
    def price(self) -> int:
        return self.tariff.price

    @property
    def export_limit(self) -> int:
        return self.tariff.export_limit

    @property
    def field_set(self) -> str:
        return self.tariff.field_set


@dataclass
class Actions:
    state: str
    timeline: PaidTimeline
    renew: Variant | None = None
    upgrade: Variant | None = None
    resume: Variant | None = None
    default_offer: Variant | None = None
    catalog: list[Variant] = field(default_factory=list)
    offers: list[IndividualOffer] = field(default_factory=list)
    on_maximum: bool = False
    can_request_limit_increase: bool = False

    @property
    def current(self) -> Subscription | None:
        return self.timeline.current

    @property
    def is_paid(self) -> bool:
        return self.state == State.PAID

    def variant_of(self, kind: str, tariff_code: str = "") -> Variant | None:
        """The variant of this kind on offer (of this tariff, when a code is given);
        None when it is not offered. Checkout and the windows both ask this."""
        if kind in DIRECT_KINDS:
            variant = getattr(self, kind)
            if variant is None or (tariff_code and variant.tariff.code != tariff_code):
                return None
            return variant
        if kind == "switch":
            return next((v for v in self.catalog if v.tariff.code == tariff_code), None)
        return None


# Kinds whose variant is an attribute of `Actions` (the others come from the catalog
# or from individual offers).
DIRECT_KINDS = ("renew", "upgrade", "resume", "default_offer")


def open_offers(organization, at: datetime) -> list[IndividualOffer]:
    today = at.astimezone(organization.tz).date()
    return list(
        IndividualOffer.objects.filter(
            organization=organization,
            status=IndividualOffer.Status.OPEN,
            valid_until__gte=today,
        ).select_related("tariff")
    )


def available_actions(organization, at: datetime, *, timeline: PaidTimeline | None = None) -> Actions:
    """Everything offered looks at the whole paid future, not only the current term:
    «Продлить» continues the latest paid subscription, «Улучшить» goes above the
    highest tariff already paid for (none when the maximum is), and «Возобновить» or
    tariff 400 are not offered while a paid term is still to come. Every variant starts
    at the same moment (`timeline.term`).

    `timeline`: the organization's paid timeline at `at`, when the caller has fetched it
    already (the menu); read here otherwise. The catalog is read once and passed down.
    """
    if timeline is None:
        timeline = fetch_paid_timeline(organization, at)
    current = timeline.current
    future = timeline.subscriptions
    sale = on_sale()

    def make(kind, tariff, reason=""):
        return Variant(kind, tariff, timeline.term(tariff.term_months), reason)

    if current is not None:
        actions = Actions(state=State.PAID, timeline=timeline)
        latest = future[-1]
        highest = max(future, key=lambda subscription: subscription.tariff.rank).tariff
        renewal = sellable_version(latest.tariff)
        if renewal is not None:
            actions.renew = make("renew", renewal)
        actions.on_maximum = is_maximum(highest, sale)
        actions.can_request_limit_increase = is_maximum(current.tariff, sale)
        if not actions.on_maximum:
            upgrade = pick_upgrade(current, quota.used_during(current), at, above=highest, sale=sale)
            if upgrade is not None:
                actions.upgrade = make("upgrade", upgrade.tariff, upgrade.reason)
    else:
        ended = last_ended_subscription(organization, at)
        if ended is not None:
            actions = Actions(state=State.FREE_AFTER_PAID, timeline=timeline)
            resumable = sellable_version(ended.tariff)
            if resumable is not None and not future:
                actions.resume = make("resume", resumable)
        else:
            actions = Actions(state=State.FREE_NEVER_PAID, timeline=timeline)
            default = default_offer_tariff()
            if default is not None and not future:
                actions.default_offer = make("default_offer", default)
    actions.catalog = [make("switch", t) for t in sale]
    actions.offers = open_offers(organization, at)
    return actions
