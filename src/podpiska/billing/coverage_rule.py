"""When an organization's paid coverage calls for a reminder or an event: the rule.

A reminder is due from its day (in the organization's time zone) until the end of the
coverage; a worker that was down catches up with only the most recent offset due (two
days before the end it sends the 7-day reminder, never the stale 30-day one too). A
coverage that ended with nothing after it gets `subscription.ended`. `next_check` says
when an organization is next worth a look.

Said here in Python: SQLite's tick applies it (`evaluate`) and it is the reference.
PostgreSQL's tick applies the same rule in SQL (`reminders_sql`); the tests hold the two
to the same answers.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from podpiska.accounts.models import Membership, Organization
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import chain_end, last_day, local_midnight

KIND_EXPIRY = "expiry"
KIND_EXPIRING_EVENT = "event.expiring"
KIND_ENDED_EVENT = "event.ended"

# How far back an ended coverage still gets its `subscription.ended` event, so a worker
# that was down for a while catches up but a first run does not replay history.
ENDED_EVENT_LOOKBACK = timedelta(days=7)


def reminder_offsets() -> list[int]:
    """Days before the last covered day, largest first (0 = on the last day)."""
    return sorted({int(days) for days in settings.PODPISKA["REMINDER_OFFSETS"]}, reverse=True)


def due_offset(final_day: date, today: date, offsets: list[int]) -> int | None:
    """The most recent offset whose day has come, while coverage lasts; else None."""
    if today > final_day:
        return None
    due = [days for days in offsets if final_day - timedelta(days=days) <= today]
    return min(due) if due else None


def next_check(periods, now: datetime, tz: ZoneInfo, offsets: list[int]) -> datetime | None:
    """The next instant something may fall due for a timeline of (starts_at, ends_at),
    ordered by start: the start of the next offset's day after today, the end of coverage
    (its `subscription.ended`), or the start of a later subscription; None for nothing."""
    return _next_check(chain_end(periods, now), periods, now, tz, offsets)


def _next_check(end, periods, now, tz, offsets) -> datetime | None:
    """`next_check` given the end of coverage."""
    if end is None:
        later = [starts_at for starts_at, _ in periods if starts_at > now]
        return min(later) if later else None
    final_day = last_day(end, tz)
    today = now.astimezone(tz).date()
    coming = [final_day - timedelta(days=n) for n in offsets if final_day - timedelta(days=n) > today]
    return min([local_midnight(min(coming), tz), end] if coming else [end])


def reminded_memberships():
    """The memberships whose person gets reminders: owners and admins, active, who have
    not turned reminders off."""
    return Membership.objects.managers().filter(user__is_active=True, user__reminders_enabled=True)


@dataclass
class Coverage:
    """What the rule finds for the organizations whose check is due."""

    zones: dict[int, str]
    # By organization: the end of coverage, its key (the instant as text), the offset
    # due and the tariff in force; only the organizations with a reminder due.
    expiring: dict[int, tuple[datetime, str, int, str]]
    # By organization: its subscriptions (pk, starts_at, ends_at, tariff name) that ended
    # within the lookback with nothing continuing them: `subscription.ended`.
    ended: dict[int, list[tuple]]
    # (organization, version read, next check): when to look at each one again.
    schedule: list[tuple[int, int, datetime | None]]


def evaluate(checks: list[tuple[int, int]], now: datetime, offsets: list[int]) -> Coverage:
    """The rule of the coverage reminders and events, for the due checks: one query for
    the time zones, one for the timelines."""
    ids = [org_id for org_id, _ in checks]
    zones = dict(Organization.objects.filter(pk__any_of=ids).values_list("pk", "timezone"))
    timelines: dict[int, list[tuple]] = defaultdict(list)
    for row in (
        Subscription.objects.filter(
            organization_id__any_of=ids, ends_at__gt=now - ENDED_EVENT_LOOKBACK
        )
        .order_by("organization_id", "starts_at")
        .values_list("organization_id", "pk", "starts_at", "ends_at", "tariff_name")
    ):
        timelines[row[0]].append(row[1:])

    found = Coverage(zones, {}, {}, [])
    for org_id, version in checks:
        if org_id not in zones:
            continue
        tz = ZoneInfo(zones[org_id])
        subscriptions = timelines.get(org_id, [])
        periods = [(starts_at, ends_at) for _, starts_at, ends_at, _ in subscriptions]
        end = chain_end(periods, now)
        found.schedule.append((org_id, version, _next_check(end, periods, now, tz, offsets)))
        if end is not None:
            offset = due_offset(last_day(end, tz), now.astimezone(tz).date(), offsets)
            if offset is not None:
                current = next(
                    (name for _, s, e, name in subscriptions if s <= now < e), ""
                )
                found.expiring[org_id] = (end, end.isoformat(), offset, current)
        # A coverage that ended, with nothing continuing it, gets `subscription.ended`.
        found.ended[org_id] = [
            subscription
            for subscription in subscriptions
            if subscription[2] <= now
            and not any(s <= subscription[2] < e for s, e in periods)
        ]
    return found
