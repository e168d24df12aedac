"""Two workers sending reminders at the same moment never send one twice (PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from podpiska.billing.reminders import send_due_reminders
from podpiska.notifications.email import send_due
from podpiska.notifications.models import EmailMessage, ReminderSent
from podpiska.subscriptions.timeline import local_midnight
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_subscription, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 6
ORGANIZATIONS = 10


def _run_concurrently(target):
    barrier = threading.Barrier(WORKERS)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_concurrent_workers_send_each_reminder_once(clock):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    tariffs = catalog()
    for n in range(ORGANIZATIONS):
        org = make_org(user=make_user(f"owner{n}@example.com"))
        end = local_midnight(NOW.date() + timedelta(days=8), org.tz)  # the 7-day reminder
        make_subscription(org, tariffs["200"], end - timedelta(days=365), ends_at=end)

    results, errors = _run_concurrently(lambda: send_due_reminders(NOW))

    assert errors == []
    assert sum(results) == ORGANIZATIONS
    assert ReminderSent.objects.filter(kind="expiry", offset_days=7).count() == ORGANIZATIONS
    assert EmailMessage.objects.count() == ORGANIZATIONS


def test_concurrent_workers_send_each_email_once(clock):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    from django.core import mail

    # Pending outbox rows as a stopped worker leaves them (no on-commit task ran).
    for n in range(ORGANIZATIONS):
        EmailMessage.objects.create(
            to=[f"owner{n}@example.com"], subject="Напоминание", body_text="Текст",
            created_at=NOW, next_attempt_at=NOW,
        )

    results, errors = _run_concurrently(lambda: send_due(NOW))

    assert errors == []
    assert sum(results) == ORGANIZATIONS
    assert len(mail.outbox) == ORGANIZATIONS
    assert EmailMessage.objects.filter(status="sent", attempts=1).count() == ORGANIZATIONS


def test_background_tick_sends_pending_email(clock):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    import time

    from django.core import mail

    from podpiska.jobs import tick as tasks

    EmailMessage.objects.create(
        to=["owner@example.com"], subject="Напоминание", body_text="Текст", created_at=NOW, next_attempt_at=NOW,
    )
    tasks._background_started.clear()
    thread = tasks.start_background_tick(interval=0.2)
    assert tasks.start_background_tick() is None  # once per process
    try:
        deadline = time.monotonic() + 20
        while not EmailMessage.objects.filter(status="sent").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert thread.is_alive()
    finally:
        thread.stop(timeout=20)
        tasks._background_started.clear()
    assert not thread.is_alive()
    assert EmailMessage.objects.get().status == "sent"
    assert [m.subject for m in mail.outbox] == ["Напоминание"]
