"""What pages read about an organization's subscriptions, fetched once and passed down.

A page that shows the menu asks about the same few rows many times — which subscription
is in force, what is paid ahead, when the paid coverage ends, when a purchase would
start, whether anything paid is still to come. `fetch_paid_timeline` reads those rows
with one query; `available_actions`, the warning, the lapsed notice and the menu's list
of scheduled subscriptions take the result instead of reading them again.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import Term, chain_end, term_after


@dataclass(frozen=True)
class PaidTimeline:
    """An organization's paid subscriptions from `at` on: the one in force (if any) and
    every one scheduled after it, by start, with their tariffs."""

    at: datetime
    tz: ZoneInfo
    subscriptions: tuple[Subscription, ...]

    @property
    def current(self) -> Subscription | None:
        """The subscription in force at `at` (`timeline.current_subscription`)."""
        first = self.subscriptions[0] if self.subscriptions else None
        return first if first is not None and first.starts_at <= self.at else None

    @property
    def scheduled(self) -> list[Subscription]:
        """Paid and not started yet, in the order they will run."""
        return [s for s in self.subscriptions if s.starts_at > self.at]

    @property
    def coverage_end(self) -> datetime | None:
        """`timeline.coverage_end`, by the same rule."""
        return chain_end([(s.starts_at, s.ends_at) for s in self.subscriptions], self.at)

    @property
    def latest_end(self) -> datetime | None:
        """The end of the latest paid subscription when it is still to come; None when
        every paid one has ended (a purchase then starts at once either way)."""
        return max((s.ends_at for s in self.subscriptions), default=None)

    def term(self, term_months: int) -> Term:
        """The term a purchase made at `at` would run (`timeline.planned_term`)."""
        return term_after(self.latest_end, term_months, self.at, self.tz)


def fetch_paid_timeline(organization, at: datetime) -> PaidTimeline:
    return PaidTimeline(
        at,
        organization.tz,
        tuple(
            Subscription.objects.filter(organization=organization, ends_at__gt=at)
            .select_related("tariff")
            .order_by("starts_at")
        ),
    )
