from datetime import date, timedelta

import pytest
from django.core import mail

from podpiska.accounts.models import Membership
from podpiska.billing.coverage_rule import due_offset
from podpiska.billing.models import Order
from podpiska.billing.reminders import send_due_reminders
from podpiska.notifications.email import send_due
from podpiska.notifications.models import (
    EmailMessage,
    ReminderSent,
    WebhookDelivery,
    WebhookEndpoint,
)
from podpiska.subscriptions.timeline import local_midnight
from tests.conftest import NOW
from tests.factories import make_subscription, make_user, start_subscription

pytestmark = pytest.mark.django_db


def _ending_on(org, tariff, last_day: date):
    end = local_midnight(last_day + timedelta(days=1), org.tz)
    return make_subscription(org, tariff, end - timedelta(days=365), ends_at=end)


def _send(clock):
    """One tick's worth: reminders, then the outbox."""
    count = send_due_reminders(clock.now())
    send_due(clock.now())
    return count


@pytest.mark.parametrize("offset", [30, 14, 7, 1, 0])
def test_each_offset_sends_one_reminder_on_its_day(clock, tariffs, org, offset):
    last = NOW.date() + timedelta(days=offset)
    _ending_on(org, tariffs["200"], last)

    assert _send(clock) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@example.com"]
    assert f"{last:%d.%m.%Y}" in message.subject
    assert f"действует до {last:%d.%m.%Y} включительно" in message.body
    assert "http://127.0.0.1:8000/settings/" in message.body
    html = message.alternatives[0][0]
    assert "Продлить подписку" in html and f"{last:%d.%m.%Y}" in html
    assert ReminderSent.objects.get(organization=org, kind="expiry").offset_days == offset

    # The same day again, and a second run: nothing more.
    assert _send(clock) == 0
    assert len(mail.outbox) == 1


def test_reminder_names_the_last_day_to_pay_by_bank_transfer(clock, tariffs, org):
    _ending_on(org, tariffs["200"], date(2026, 12, 11))  # a Friday, 14 days after NOW
    _send(clock)
    body = mail.outbox[0].body
    assert "Компас 200" in body
    assert "не позднее 08.12.2026" in body  # 3 business days before the end
    assert "Осталось 14 дней" in body


def test_not_due_before_the_first_offset(clock, tariffs, org):
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=31))
    assert _send(clock) == 0
    assert mail.outbox == []


def test_the_whole_countdown_sends_each_offset_once(clock, tariffs, org):
    last = NOW.date() + timedelta(days=30)
    _ending_on(org, tariffs["200"], last)
    sent_offsets = []
    for _day in range(32):
        if _send(clock):
            sent_offsets.append(ReminderSent.objects.filter(kind="expiry").latest("sent_at").offset_days)
        clock.shift(timedelta(days=1))
    assert sent_offsets == [30, 14, 7, 1, 0]
    assert len(mail.outbox) == 5


def test_catch_up_sends_only_the_most_recent_offset(clock, tariffs, org):
    # The worker was down: two days before the end, only the 7-day reminder is sent.
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=2))
    assert _send(clock) == 1
    assert list(ReminderSent.objects.filter(kind="expiry").values_list("offset_days", flat=True)) == [7]
    assert len(mail.outbox) == 1


def test_due_offset_rule():
    offsets = [30, 14, 7, 1, 0]
    last = date(2026, 12, 31)
    assert due_offset(last, date(2026, 11, 30), offsets) is None
    assert due_offset(last, date(2026, 12, 1), offsets) == 30
    assert due_offset(last, date(2026, 12, 20), offsets) == 14
    assert due_offset(last, date(2026, 12, 31), offsets) == 0
    assert due_offset(last, date(2027, 1, 1), offsets) is None


def test_no_reminder_when_a_renewal_is_paid(clock, tariffs, org):
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=7))
    start_subscription(organization=org, tariff=tariffs["200"], terms=tariffs["200"].terms(), confirmed_at=NOW)
    assert _send(clock) == 0
    assert mail.outbox == []


def test_pending_renewal_is_mentioned(clock, tariffs, org):
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=7))
    Order.objects.create(
        organization=org, kind="renew", tariff=tariffs["200"], requisites=org.requisites(),
        payment_method="invoice", idempotency_key="k1", created_at=NOW, **tariffs["200"].terms(),
    )
    _send(clock)
    assert "ожидает оплаты" in mail.outbox[0].body


def test_owners_and_admins_only_and_opt_out_respected(clock, tariffs, org):
    admin = make_user("admin@example.com")
    member = make_user("member@example.com")
    quiet = make_user("quiet@example.com", reminders_enabled=False)
    Membership.objects.create(user=admin, organization=org, role="admin")
    Membership.objects.create(user=member, organization=org, role="member")
    Membership.objects.create(user=quiet, organization=org, role="admin")
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=14))
    _send(clock)
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.com", "owner@example.com"]
    assert all(len(m.to) == 1 for m in mail.outbox)


def test_expiring_and_ended_events_published_once(clock, tariffs, org):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=NOW)
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=14))
    _send(clock)
    clock.shift(timedelta(days=7))
    _send(clock)
    assert WebhookDelivery.objects.filter(event="subscription.expiring").count() == 1
    assert not WebhookDelivery.objects.filter(event="subscription.ended").exists()
    clock.shift(timedelta(days=8))  # past the end
    _send(clock)
    _send(clock)
    assert WebhookDelivery.objects.filter(event="subscription.ended").count() == 1
    assert WebhookDelivery.objects.get(event="subscription.expiring").payload["data"]["last_day"] == (
        (NOW.date() + timedelta(days=14)).isoformat()
    )


def test_invoice_reminder_two_business_days_before_pay_by(clock, tariffs, org):
    from podpiska.billing.models import Invoice

    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=60))
    order = Order.objects.create(
        organization=org, kind="renew", tariff=tariffs["200"], requisites=org.requisites(),
        payment_method="invoice", idempotency_key="k2", created_at=NOW,
        pay_by=date(2026, 12, 3), **tariffs["200"].terms(),
    )
    invoice = Invoice.objects.create(
        order=order, organization=org, year=2026, number=77, issued_on=NOW.date(),
        pay_by=order.pay_by, seller={}, buyer={}, line="Доступ к сервису", total=order.price,
        created_at=NOW,
    )
    assert _send(clock) == 0  # Friday 27.11: too early
    clock.shift(timedelta(days=4))  # Tuesday 01.12 = 03.12 minus 2 business days
    assert _send(clock) == 1
    assert _send(clock) == 0
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [f"Счёт № {invoice.display_number} не оплачен: срок оплаты 03.12.2026"] * 2
    assert sorted(m.to[0] for m in mail.outbox) == [org.email, "owner@example.com"]
    assert "иначе заказ будет отменён" in mail.outbox[0].body


def test_outbox_row_exists_before_sending(clock, tariffs, org):
    _ending_on(org, tariffs["200"], NOW.date() + timedelta(days=1))
    send_due_reminders(clock.now())
    assert EmailMessage.objects.filter(status="pending").count() == 1
    assert mail.outbox == []
    assert send_due(clock.now()) == 1
    assert EmailMessage.objects.get().status == "sent"
