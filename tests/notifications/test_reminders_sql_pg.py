"""PostgreSQL applies the coverage rule in SQL (`reminders_sql`); SQLite and the reference
apply it in Python (`coverage_rule.evaluate`). Both are run here on the same timelines —
renewals end to end, gaps, ends at midnight and mid-day and to the microsecond, scheduled
and ended subscriptions, time zones a day apart and zones whose clocks change at
midnight — at instants spread over six weeks, and must agree on every answer: the end
of coverage and its key, the offset due, the tariff in force, the next check, what
ended. Then both write a busy tick's rows, which must be the same rows."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from podpiska.accounts.models import Membership
from podpiska.billing import coverage_rule, reminders, reminders_sql
from podpiska.billing.models import Order
from podpiska.notifications.models import (
    EmailMessage,
    ReminderCheck,
    ReminderSent,
    WebhookDelivery,
    WebhookEndpoint,
)
from podpiska.subscriptions.timeline import local_midnight
from tests.factories import catalog, make_org, make_subscription, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

OFFSETS = [30, 14, 7, 1, 0]
ZONES = [
    "Europe/Moscow",
    "Asia/Kamchatka",
    "Pacific/Kiritimati",  # UTC+14: a day ahead of UTC
    "Pacific/Pago_Pago",  # UTC−11
    "America/Havana",  # clocks back at 01:00 to 00:00: midnight comes twice (01.11.2026)
    "America/Santiago",  # clocks forward at midnight: no midnight (06.09.2026)
    "Asia/Beirut",  # changes at midnight
    "Europe/London",
]
# The timelines are laid out around these days; the instants looked at follow them.
ANCHORS = [date(2026, 8, 30), date(2026, 10, 20)]


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")


def _timelines(anchor: date, tariffs) -> None:
    """Organizations in every zone, each with a timeline of its own kind."""
    compass_200, compass_100 = tariffs["200"], tariffs["100"]
    for zone in ZONES:
        tz = ZoneInfo(zone)

        def at(days: int, hour: int = 0, microsecond: int = 0, tz=tz):
            local = datetime.combine(anchor + timedelta(days=days), time(hour, microsecond=microsecond))
            return local.replace(tzinfo=tz)

        def org(tz=tz, zone=zone):
            return make_org(user=make_user(), timezone=zone)

        # One paid year ending on many days around the anchor and the weeks after it.
        for days in (-9, -3, 0, 1, 2, 8, 9, 15, 16, 22, 31, 32, 40):
            make_subscription(org(), compass_200, at(days - 365), ends_at=at(days))
        make_subscription(org(), compass_200, at(-200, 14), ends_at=at(12, 14))  # ends mid-day
        make_subscription(org(), compass_200, at(-100), ends_at=at(17, 0, 123456))  # to the µs
        # A renewal chained to the current year; a renewal after a gap; only a future one.
        chained = org()
        make_subscription(chained, compass_100, at(-360), ends_at=at(5))
        make_subscription(chained, compass_200, at(5), ends_at=at(5 + 365))
        gap = org()
        make_subscription(gap, compass_100, at(-300), ends_at=at(10))
        make_subscription(gap, compass_200, at(13), ends_at=at(13 + 365))
        make_subscription(org(), compass_200, at(4, 9), ends_at=at(4 + 365))
        # Three terms end to end; a renewal a second after the end (a gap all the same).
        three = org()
        make_subscription(three, compass_100, at(-100), ends_at=at(3))
        make_subscription(three, compass_100, at(3), ends_at=at(11, 12))
        make_subscription(three, compass_200, at(11, 12), ends_at=at(26))
        second = org()
        make_subscription(second, compass_100, at(-50), ends_at=at(6))
        make_subscription(second, compass_200, at(6) + timedelta(seconds=1), ends_at=at(19))
        # Ended a few days before the anchor with a later one scheduled.
        resumed = org()
        make_subscription(resumed, compass_100, at(-400), ends_at=at(-2))
        make_subscription(resumed, compass_200, at(7), ends_at=at(7 + 365))
    # An organization whose subscriptions were all deleted: a check with no timeline.
    empty = make_org()
    sub = make_subscription(empty, compass_200, datetime.combine(anchor, time()).replace(tzinfo=ZoneInfo("UTC")))
    sub.delete()


def _checks():
    return sorted(ReminderCheck.objects.values_list("organization_id", "version"))


def _answers(found: coverage_rule.Coverage):
    return (
        found.zones,
        found.expiring,
        {org_id: sorted(subs) for org_id, subs in found.ended.items()},
        # In UTC: Python never finds an instant in a gap or a fold equal to one of
        # another zone, even the same instant (PEP 495).
        sorted((org_id, version, moment and moment.astimezone(UTC)) for org_id, version, moment in found.schedule),
    )


def test_sql_and_python_agree_on_every_timeline_at_every_instant(clock):
    _needs_postgres()
    tariffs = catalog()
    for anchor in ANCHORS:
        _timelines(anchor, tariffs)
    checks = _checks()
    compared = expiring = ended = 0
    ambiguous = local_midnight(date(2026, 11, 1), ZoneInfo("America/Havana")).astimezone(UTC)
    gap = local_midnight(date(2026, 9, 6), ZoneInfo("America/Santiago")).astimezone(UTC)
    seen = set()
    for anchor in ANCHORS:
        start = datetime.combine(anchor - timedelta(days=3), time(5, 30)).replace(tzinfo=ZoneInfo("UTC"))
        # Every 23 hours: each instant at another hour of the day.
        for step in range(48):
            now = start + timedelta(hours=23 * step)
            python = _answers(coverage_rule.evaluate(checks, now, OFFSETS))
            sql = _answers(reminders_sql.evaluate(checks, now, OFFSETS))
            assert sql == python, now
            compared += 1
            expiring += len(python[1])
            ended += sum(map(len, python[2].values()))
            seen.update(moment for _, _, moment in python[3])
    assert compared == 96
    # The instants covered what matters: reminders and events due, and next checks on
    # the days whose midnight comes twice or not at all.
    assert expiring > 1000 and ended > 100
    assert ambiguous in seen and gap in seen


class _Undo(Exception):
    """Rolls back what a path wrote, carrying what it wrote out."""


def _written_by(write) -> dict:
    try:
        with transaction.atomic():
            reminded = write()
            rows = {
                "reminded": reminded,
                "claims": sorted(
                    ReminderSent.objects.values_list("organization_id", "kind", "subject_key", "offset_days")
                ),
                "letters": sorted(
                    (message.to, message.template, sorted(message.context.items()), message.status,
                     message.created_at, message.next_attempt_at, message.subject, message.body_text)
                    for message in EmailMessage.objects.all()
                ),
                "deliveries": sorted(
                    (d.payload["organization"]["id"], d.event, repr(sorted(d.payload["data"].items())),
                     d.endpoint_id, d.status, d.attempts, d.next_attempt_at, d.created_at,
                     repr(sorted((key, value) for key, value in d.payload.items() if key != "id")))
                    for d in WebhookDelivery.objects.all()
                ),
                "event_ids": _event_ids(),
                "checks": dict(ReminderCheck.objects.values_list("organization_id", "due_at")),
            }
            raise _Undo(rows)
    except _Undo as undone:
        return undone.args[0]


def _event_ids():
    """Each event's id: the payload's, one at every endpoint, a fresh one per event."""
    by_event: dict[str, set] = {}
    for delivery in WebhookDelivery.objects.all():
        assert delivery.event_id == delivery.payload["id"] and len(delivery.event_id) == 32
        key = (delivery.payload["organization"]["id"], delivery.event, repr(delivery.payload["data"]))
        by_event.setdefault(delivery.event_id, set()).add(key)
    assert all(len(keys) == 1 for keys in by_event.values())
    return len(by_event)


def test_sql_and_python_write_the_same_rows(clock):
    _needs_postgres()
    tariffs = catalog()
    anchor = ANCHORS[1]
    _timelines(anchor, tariffs)
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/all", secret="s", created_at=clock.now())
    WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/ended", secret="s", events=["subscription.ended"], created_at=clock.now()
    )
    WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/off", secret="s", is_active=False, created_at=clock.now()
    )
    # Who gets the letters: owners and admins, active, not opted out, in lower case.
    organizations = list(ReminderCheck.objects.order_by("organization_id").values_list("organization", flat=True))
    for n, org_id in enumerate(organizations[:12]):
        person = make_user(f"Person{n}@Example.com", is_active=n % 3 != 1, reminders_enabled=n % 4 != 2)
        Membership.objects.create(user=person, organization_id=org_id, role=["admin", "member"][n % 2])
    # Some are awaiting payment of a renewal, one of an add-on only.
    for n, org_id in enumerate(organizations[::5]):
        org = Membership.objects.filter(organization_id=org_id).first().organization
        Order.objects.create(
            organization=org, kind="addon" if n == 0 else "renew", tariff=tariffs["200"],
            requisites=org.requisites(), payment_method="invoice", idempotency_key=f"k{n}",
            created_at=clock.now(), **tariffs["200"].terms(),
        )
    checks = _checks()
    now = datetime.combine(anchor + timedelta(days=2), time(10)).replace(tzinfo=ZoneInfo("UTC"))

    python = _written_by(lambda: reminders._send_coverage(coverage_rule.evaluate(checks, now, OFFSETS), now))
    sql = _written_by(lambda: reminders_sql.check_coverage(checks, now, OFFSETS))

    assert python["reminded"] > 50 and len(python["letters"]) > python["reminded"]
    assert {kind for _, kind, _, _ in python["claims"]} == {"expiry", "event.expiring", "event.ended"}
    assert {row[1] for row in python["deliveries"]} == {"subscription.expiring", "subscription.ended"}
    assert any(context["awaiting_payment"] for _, _, items, *_ in python["letters"] for context in [dict(items)])
    assert any("person" in to[0] for to, *_ in python["letters"])
    for key in python:
        assert sql[key] == python[key], key
