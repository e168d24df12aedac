"""The tick looks only at organizations whose check has come, and the database marks an
organization due again whenever its timeline changes, whatever writes it."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import expire_overdue_orders
from podpiska.billing.coverage_rule import next_check
from podpiska.billing.models import Order, OrderStatus
from podpiska.billing.reminders import send_due_reminders
from podpiska.notifications.email import send_due
from podpiska.notifications.models import (
    ReminderCheck,
    ReminderSent,
    WebhookDelivery,
    WebhookEndpoint,
)
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import local_midnight
from tests.conftest import MSK, NOW
from tests.factories import make_org, make_subscription, make_user, start_subscription

pytestmark = pytest.mark.django_db

OFFSETS = [30, 14, 7, 1, 0]


def _ending_on(org, tariff, last_day: date):
    end = local_midnight(last_day + timedelta(days=1), org.tz)
    return make_subscription(org, tariff, end - timedelta(days=365), ends_at=end)


def _check(org) -> ReminderCheck:
    return ReminderCheck.objects.get(organization=org)


def test_next_check_is_the_next_offset_day_then_the_end():
    end = local_midnight(date(2026, 12, 31), MSK)  # last day 30.12
    periods = [(end - timedelta(days=365), end)]
    assert next_check(periods, NOW, MSK, OFFSETS) == local_midnight(date(2026, 11, 30), MSK)
    on_the_day = local_midnight(date(2026, 11, 30), MSK)
    assert next_check(periods, on_the_day, MSK, OFFSETS) == local_midnight(date(2026, 12, 16), MSK)
    last = local_midnight(date(2026, 12, 30), MSK)
    assert next_check(periods, last, MSK, OFFSETS) == end  # then `subscription.ended`
    assert next_check(periods, end, MSK, OFFSETS) is None
    # Nothing paid now, a subscription later: look again when it starts.
    later = (end + timedelta(days=3), end + timedelta(days=40))
    assert next_check([later], NOW, MSK, OFFSETS) == later[0]


def test_a_new_subscription_makes_its_organization_due_at_once(clock, tariffs, org):
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=60))
    check = _check(org)
    assert check.due_at <= NOW
    assert send_due_reminders(NOW) == 0
    # Looked at: the next look is the 30-day reminder's day, 30 days from now.
    assert _check(org).due_at == local_midnight(NOW.date() + timedelta(days=30), org.tz)
    assert _check(org).version == check.version


def test_a_tick_with_nothing_due_reads_no_timeline(clock, tariffs):
    for n in range(12):
        org = make_org(user=make_user(f"quiet{n}@example.com"))
        _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=100 + n))
    send_due_reminders(NOW)
    with CaptureQueriesContext(connection) as queries:
        assert send_due_reminders(NOW) == 0
    # The due checks (none) and the unpaid invoices near their date (none): no query
    # per organization, and none of the subscriptions table.
    assert len(queries) == 2
    assert not any("subscriptions_subscription" in q["sql"] for q in queries.captured_queries)


def test_a_renewal_paid_after_the_check_is_seen_by_the_next_tick(clock, tariffs, org):
    sub = _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=40))
    send_due_reminders(NOW)
    clock.shift(timedelta(days=10))  # the 30-day day
    start_subscription(organization=org, tariff=tariffs["200"], terms=tariffs["200"].terms(), confirmed_at=clock.now())
    assert _check(org).due_at <= clock.now()
    assert send_due_reminders(clock.now()) == 0  # the renewal extends coverage: not due
    renewal = Subscription.objects.exclude(pk=sub.pk).get()
    assert _check(org).due_at == local_midnight(
        (renewal.ends_at - timedelta(days=1)).astimezone(org.tz).date() - timedelta(days=30), org.tz
    )


def test_a_deleted_subscription_and_a_time_zone_change_mark_the_organization_due(clock, tariffs, org):
    sub = _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=60))
    send_due_reminders(NOW)
    version = _check(org).version
    sub.delete()
    assert _check(org).due_at <= NOW and _check(org).version > version
    send_due_reminders(NOW)
    assert _check(org).due_at is None  # nothing left to look at
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=60))
    send_due_reminders(NOW)
    org.timezone = "Asia/Vladivostok"
    org.save(update_fields=["timezone"])
    assert _check(org).due_at <= NOW


def test_a_change_during_the_tick_is_not_overwritten(clock, tariffs, org):
    from podpiska.billing import reminders

    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=60))
    checks = reminders._due_checks(NOW)
    # Another transaction changes the timeline between the tick's read and its write.
    _ending_on(org, tariffs["100"], NOW.date() + timedelta(days=60 + 365))
    reminders._check_coverage(checks, NOW, OFFSETS)
    assert _check(org).due_at <= NOW  # still due: the next tick reads the new timeline


def test_ended_coverage_publishes_once_even_when_a_later_one_is_scheduled(clock, tariffs, org):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=NOW)
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=2))
    later = local_midnight(NOW.date() + timedelta(days=20), org.tz)
    make_subscription(org, tariffs["200"], later, ends_at=later + timedelta(days=365))
    for _ in range(2):
        send_due_reminders(clock.now())
    clock.shift(timedelta(days=4))
    for _ in range(2):
        send_due_reminders(clock.now())
    assert WebhookDelivery.objects.filter(event="subscription.ended").count() == 1
    # The later subscription is looked at again when it starts.
    assert _check(org).due_at == later


def test_many_organizations_due_at_once_each_get_their_letter(clock, tariffs):
    orgs = []
    for n in range(25):
        org = make_org(user=make_user(f"owner-{n}@example.com"))
        _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=[30, 14, 7, 1, 0][n % 5]))
        orgs.append(org)
    assert send_due_reminders(NOW) == 25
    assert send_due(NOW) == 25
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"owner-{n}@example.com" for n in range(25))
    assert ReminderSent.objects.filter(kind="expiry").count() == 25
    assert send_due_reminders(NOW) == 0


def test_overdue_orders_expire_in_one_update_with_their_audit(clock, tariffs, org, owner):
    def order(key, pay_by, **extra):
        return Order.objects.create(
            organization=extra.pop("organization", org), kind="renew", tariff=tariffs["200"],
            requisites=org.requisites(), payment_method="invoice", idempotency_key=key,
            created_at=NOW, pay_by=pay_by, **tariffs["200"].terms(),
        )

    # One open order for a term per organization: each case has an organization of its own.
    overdue = order("a", NOW.date() - timedelta(days=1))
    today = order("b", NOW.date(), organization=make_org())
    paid = order("c", NOW.date() - timedelta(days=3), organization=make_org())
    Order.objects.filter(pk=paid.pk).update(status=OrderStatus.FULFILLED)
    # 23:30 in Moscow is already tomorrow in Vladivostok: its order of «today» is overdue there.
    far_east = make_org(timezone="Asia/Vladivostok")
    late_evening = NOW.replace(hour=23, minute=30)
    east = order("d", NOW.date(), organization=far_east)

    assert expire_overdue_orders(late_evening) == 2
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses[overdue.pk] == statuses[east.pk] == OrderStatus.EXPIRED
    assert statuses[today.pk] == OrderStatus.AWAITING_PAYMENT
    assert statuses[paid.pk] == OrderStatus.FULFILLED
    record = AuditRecord.objects.get(action="order.expired", object_id=str(overdue.pk))
    assert record.before == {"status": "awaiting_payment", "closed_at": None}
    assert record.after["status"] == "expired" and record.after["closed_at"]
    assert expire_overdue_orders(late_evening) == 0  # again: nothing more
    assert AuditRecord.objects.filter(action="order.expired").count() == 2
