"""The e-mail and webhook outboxes share one base: what is due, the bookkeeping of an
attempt, and staff putting a row back in the queue."""

from datetime import UTC, timedelta

import pytest
from django.db import IntegrityError, transaction

from podpiska.api.admin import WebhookDeliveryAdmin
from podpiska.audit.models import AuditRecord
from podpiska.notifications.admin import EmailMessageAdmin
from podpiska.notifications.email import retry_now
from podpiska.notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from podpiska.notifications.outbox import backoff
from podpiska.notifications.webhooks import resend
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def _message(**fields):
    return EmailMessage.objects.create(to=["a@example.com"], subject="Тема", body_text="Текст",
                                       created_at=NOW, **fields)


def _delivery(**fields):
    endpoint = WebhookEndpoint.objects.first() or WebhookEndpoint.objects.create(
        url="https://host.example/hooks", secret="whsec_x", created_at=NOW)
    n = WebhookDelivery.objects.count()
    return WebhookDelivery.objects.create(endpoint=endpoint, event="order.paid", event_id=f"e{n}",
                                          payload={}, created_at=NOW, **fields)


def test_backoff_doubles_from_a_minute():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]


@pytest.mark.parametrize("make", [_message, _delivery])
def test_due_is_pending_and_its_time_has_come(clock, make):
    due_now = make(next_attempt_at=NOW)
    late = make(next_attempt_at=NOW - timedelta(days=1))
    make(next_attempt_at=NOW + timedelta(seconds=1))
    make(status="failed", next_attempt_at=None)
    model = type(due_now)
    make(status=model.DONE, next_attempt_at=None)
    assert set(model.objects.due(NOW)) == {due_now, late}


@pytest.mark.parametrize("make", [_message, _delivery])
def test_a_pending_row_always_says_when_it_is_due(clock, make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make(next_attempt_at=None)


@pytest.mark.parametrize("model", [EmailMessage, WebhookDelivery])
def test_an_attempt_is_counted_then_retried_failed_or_done(model):
    item = model(attempts=0, status="pending")
    assert item.finish("down", NOW) == ["attempts", "last_error", "status", "next_attempt_at"]
    assert (item.attempts, item.last_error, item.status) == (1, "down", "pending")
    assert item.next_attempt_at == NOW + timedelta(minutes=1)

    item.attempts = model.MAX_ATTEMPTS - 1
    item.finish("still down", NOW)
    assert (item.status, item.next_attempt_at) == ("failed", None)

    item = model(attempts=2, status="pending", last_error="down", next_attempt_at=NOW)
    assert item.finish("", NOW) == ["attempts", "status", model.DONE_AT, "next_attempt_at"]
    assert (item.attempts, item.status, getattr(item, model.DONE_AT), item.next_attempt_at) == (
        3, model.DONE, NOW, None)


def test_a_failed_letter_is_put_back_with_its_attempts_a_sent_one_is_not(clock, owner):
    failed = _message(status="failed", attempts=EmailMessage.MAX_ATTEMPTS)
    assert retry_now(failed, actor=owner) is True
    failed.refresh_from_db()
    assert (failed.status, failed.next_attempt_at, failed.attempts) == (
        "pending", NOW, EmailMessage.MAX_ATTEMPTS)
    record = AuditRecord.objects.get(action="notifications.email_retry")
    assert record.actor == owner
    assert record.before == {"status": "failed", "next_attempt_at": None,
                             "attempts": EmailMessage.MAX_ATTEMPTS}
    assert record.after == {"status": "pending", "next_attempt_at": NOW.astimezone(UTC).isoformat(),
                            "attempts": EmailMessage.MAX_ATTEMPTS}
    # Already waiting to go now: nothing to change, nothing recorded.
    assert retry_now(failed, actor=owner) is False

    sent = _message(status="sent", attempts=1)
    assert retry_now(sent, actor=owner) is False
    sent.refresh_from_db()
    assert sent.status == "sent"
    assert AuditRecord.objects.filter(action="notifications.email_retry").count() == 1


def test_a_failed_delivery_gets_a_fresh_round_a_delivered_one_goes_again(clock, owner):
    failed = _delivery(status="failed", attempts=WebhookDelivery.MAX_ATTEMPTS)
    delivered = _delivery(status="delivered", attempts=2, delivered_at=NOW)
    assert resend(failed, actor=owner) and resend(delivered, actor=owner)
    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("pending", 0, NOW)
    assert (delivered.status, delivered.attempts, delivered.next_attempt_at) == ("pending", 2, NOW)
    first = AuditRecord.objects.filter(action="notifications.webhook_resend").order_by("pk").first()
    assert first.before["attempts"] == WebhookDelivery.MAX_ATTEMPTS and first.after["attempts"] == 0


@pytest.mark.parametrize("admin, model", [(EmailMessageAdmin, EmailMessage),
                                          (WebhookDeliveryAdmin, WebhookDelivery)])
def test_the_log_shows_every_field(admin, model):
    assert sorted(admin.readonly_fields) == sorted(f.name for f in model._meta.fields)
