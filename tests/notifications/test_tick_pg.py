"""Workers ticking at the same moment send each reminder, event and letter once
(PostgreSQL: real concurrent transactions)."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection

from podpiska.accounts.models import Organization
from podpiska.billing.models import Invoice, Order, OrderStatus
from podpiska.jobs.tick import run_tick
from podpiska.notifications.models import (
    EmailMessage,
    ReminderCheck,
    ReminderSent,
    WebhookDelivery,
    WebhookEndpoint,
)
from podpiska.subscriptions.timeline import local_midnight
from tests.concurrency import run_threads
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_subscription, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORGANIZATIONS = 30


def test_two_workers_ticking_at_once_send_everything_once(clock):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    tariffs = catalog()
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=NOW)
    for n in range(ORGANIZATIONS):
        org = make_org(user=make_user(f"owner{n}@example.com"))
        if n % 3 == 2:
            # Ended three days ago, nothing after it: `subscription.ended`.
            end = local_midnight(NOW.date() - timedelta(days=3), org.tz)
        else:
            end = local_midnight(NOW.date() + timedelta(days=[8, 15][n % 3]), org.tz)
        make_subscription(org, tariffs["200"], end - timedelta(days=365), ends_at=end)
        if n % 5 == 0:
            order = Order.objects.create(
                organization=org, kind="renew", tariff=tariffs["200"], requisites=org.requisites(),
                payment_method="invoice", idempotency_key=f"k{n}", created_at=NOW,
                pay_by=date(2026, 12, 3), **tariffs["200"].terms(),
            )
            Invoice.objects.create(
                order=order, organization=org, year=2026, number=n + 1, issued_on=NOW.date(),
                pay_by=order.pay_by, seller={}, buyer={}, line="Доступ", total=order.price,
                created_at=NOW,
            )
        if n % 7 == 0:  # overdue: expires in the same tick (one open order an organization)
            late = make_org()
            Order.objects.create(
                organization=late, kind="renew", tariff=tariffs["200"], requisites=late.requisites(),
                payment_method="invoice", idempotency_key=f"late{n}", created_at=NOW,
                pay_by=NOW.date() - timedelta(days=2), **tariffs["200"].terms(),
            )

    results, errors = run_threads(2, lambda i: run_tick(NOW))

    assert errors == []
    assert all(min(result.values()) >= 0 for result in results), results  # no step failed
    expiring = ORGANIZATIONS - ORGANIZATIONS // 3
    invoices = len(range(0, ORGANIZATIONS, 5))
    # Each reminder counted by exactly one of the two workers.
    assert sum(result["reminders"] for result in results) == expiring
    assert sum(result["expired_orders"] for result in results) == len(range(0, ORGANIZATIONS, 7))
    assert ReminderSent.objects.filter(kind="expiry").count() == expiring
    assert WebhookDelivery.objects.filter(event="subscription.expiring").count() == expiring
    assert WebhookDelivery.objects.filter(event="subscription.ended").count() == ORGANIZATIONS // 3
    # Invoices payable by 03.12: Friday 27.11 is too early, their reminder is due 01.12.
    assert not ReminderSent.objects.filter(kind="invoice_due").exists()
    assert EmailMessage.objects.count() == expiring
    assert len(mail.outbox) == expiring
    assert Order.objects.filter(status=OrderStatus.EXPIRED).count() == len(range(0, ORGANIZATIONS, 7))

    # Both again, later, when the invoices' reminders are due: once each.
    later = NOW + timedelta(days=4)
    results, errors = run_threads(2, lambda i: run_tick(later))
    assert errors == []
    assert ReminderSent.objects.filter(kind="invoice_due").count() == invoices
    expected = sorted(
        address
        for org in Organization.objects.filter(invoices__isnull=False)
        for address in (org.memberships.get().user.email, org.email)
    )
    assert sorted(m.to[0] for m in mail.outbox if "не оплачен" in m.subject) == expected
    assert not ReminderCheck.objects.filter(due_at__lte=NOW).exists()
