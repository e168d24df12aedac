from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction

from podpiska.jobs.tick import run_tick
from podpiska.notifications.email import MAX_ATTEMPTS, queue_email, retry_now, send_due
from podpiska.notifications.models import EmailMessage
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

CONTEXT = {"invoice": None}


class Killed(BaseException):
    """Stands for the process dying (SIGKILL, OOM): not an ordinary error."""


class DiesOnThirdBackend(LocmemBackend):
    """A mail server that accepts two messages, then the worker dies mid-send."""

    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls == 3:
            raise Killed()
        return super().send_messages(messages)


class RefusingBackend(LocmemBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP down")


def _queue(n, org):
    from podpiska.billing.models import Invoice, Order

    messages = []
    for i in range(n):
        order = Order.objects.create(
            # Expired: the organization may hold only one unpaid term order.
            organization=org, kind="renew", status="expired", tariff_name="Компас 200", price=100, export_limit=1,
            requisites={}, payment_method="invoice", idempotency_key=f"k{i}", created_at=NOW,
        )
        invoice = Invoice.objects.create(
            order=order, organization=org, year=2026, number=i + 1, issued_on=NOW.date(),
            pay_by=NOW.date() + timedelta(days=60), seller={}, buyer={}, line="Доступ", total=100,
            created_at=NOW,
        )
        messages.append(
            queue_email([f"u{i}@example.com"], "invoice_due", {
                "organization": org, "invoice": invoice, "total": "1,00 ₽",
                "invoice_url": "http://x/", "today": NOW.date(),
            })
        )
    return messages


def test_worker_killed_mid_run_loses_nothing(clock, org, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_email.DiesOnThirdBackend"
    DiesOnThirdBackend.calls = 0
    _queue(5, org)
    with pytest.raises(Killed):
        send_due(clock.now())
    assert len(mail.outbox) == 2
    assert EmailMessage.objects.filter(status="sent").count() == 2
    # The message being sent when the worker died rolled back to pending with the rest.
    assert EmailMessage.objects.filter(status="pending", attempts=0).count() == 3

    assert send_due(clock.now()) == 3  # the next run sends the rest
    assert len(mail.outbox) == 5
    assert sorted(m.to[0] for m in mail.outbox) == [f"u{i}@example.com" for i in range(5)]
    assert not EmailMessage.objects.exclude(status="sent").exists()


def test_failure_retries_with_backoff_and_stays_visible(clock, org, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_email.RefusingBackend"
    (message,) = _queue(1, org)
    assert send_due(clock.now()) == 0
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1
    assert "SMTP down" in message.last_error
    assert message.next_attempt_at == NOW + timedelta(minutes=1)

    clock.shift(timedelta(seconds=30))
    assert send_due(clock.now()) == 0
    message.refresh_from_db()
    assert message.attempts == 1  # not due yet

    for _ in range(MAX_ATTEMPTS - 1):
        clock.shift(timedelta(days=1))
        send_due(clock.now())
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == MAX_ATTEMPTS

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retry_now(message, actor=None)
    assert send_due(clock.now()) == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert mail.outbox[0].subject.startswith("Счёт №")


@pytest.mark.django_db(transaction=True)
def test_queued_email_is_sent_by_the_task_after_commit(clock):
    from tests.factories import make_org

    org = make_org()
    # Test settings use the immediate task backend: the on-commit task sends at once.
    with transaction.atomic():
        _queue(1, org)
        assert mail.outbox == []
    assert len(mail.outbox) == 1
    assert EmailMessage.objects.get().status == "sent"


def test_letters_queued_together_are_sent_by_a_task_a_run_of_ids(clock, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from podpiska.notifications import email

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with django_capture_on_commit_callbacks(execute=True):
        email.send_when_committed([7, 3, 4, 5, *range(10, 10 + email.SEND_TASK_SIZE + 2)])
    runs = sorted(tuple(task.args_kwargs["args"]) for task in DBTaskResult.objects.all())
    assert runs == [
        (3, 5), (7, 7), (10, 9 + email.SEND_TASK_SIZE), (10 + email.SEND_TASK_SIZE, 11 + email.SEND_TASK_SIZE),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_run_task_sends_the_letters_of_its_run(clock):
    from podpiska.notifications.email import send_email_run_task
    from tests.factories import make_org

    org = make_org()
    _queue(3, org)  # sent already by the immediate backend after commit
    ids = sorted(EmailMessage.objects.values_list("pk", flat=True))
    EmailMessage.objects.update(status="pending", next_attempt_at=NOW)
    mail.outbox.clear()
    assert send_email_run_task.call(ids[0], ids[1]) == 2
    assert len(mail.outbox) == 2
    assert EmailMessage.objects.get(pk=ids[2]).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_rolled_back_action_emails_no_one(clock):
    from tests.factories import make_org

    org = make_org()
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue(1, org)
        raise RuntimeError("the action failed")
    assert not EmailMessage.objects.exists()
    assert mail.outbox == []


def test_tick_runs_every_step(clock, org):
    _queue(2, org)
    results = run_tick()
    assert results["emails"] == 2
    assert results["reminders"] == 0
    assert results["expired_orders"] == 0


def test_queue_email_needs_a_recipient(clock):
    with pytest.raises(ValueError):
        queue_email(["", "  "], "invoice_due", CONTEXT)


@pytest.mark.django_db(transaction=True)
def test_with_the_database_queue_the_task_commits_with_the_letters_or_not_at_all(clock, settings):
    from django_tasks_db.models import DBTaskResult

    from podpiska.notifications.email import queue_emails_later

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_emails_later("order_paid", [(["a@example.com"], {"order_id": 1})])
        assert DBTaskResult.objects.count() == 1  # written in the action's transaction
        raise RuntimeError("the action failed")
    assert not DBTaskResult.objects.exists() and not EmailMessage.objects.exists()
    with transaction.atomic():
        [message_id] = queue_emails_later("order_paid", [(["a@example.com"], {"order_id": 1})])
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path.endswith("send_email_run_task") and queued.args_kwargs["args"] == [message_id, message_id]
