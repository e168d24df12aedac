"""The migration that makes every pending outbox row say when it is due keeps the rows
written without a time: they are due since they were written, and are sent."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import NOW

BEFORE = [("notifications", "0005_h12_reminder_check")]
AFTER = [("notifications", "0006_pending_rows_have_a_time")]


@pytest.mark.django_db(transaction=True)
def test_pending_rows_without_a_time_become_due_since_written(clock):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    EmailMessage = apps.get_model("notifications", "EmailMessage")
    WebhookEndpoint = apps.get_model("notifications", "WebhookEndpoint")
    WebhookDelivery = apps.get_model("notifications", "WebhookDelivery")
    letter = EmailMessage.objects.create(to=["a@example.com"], subject="Тема", body_text="Текст",
                                         status="pending", created_at=NOW)
    failed = EmailMessage.objects.create(to=["b@example.com"], subject="Тема", body_text="Текст",
                                         status="failed", created_at=NOW)
    endpoint = WebhookEndpoint.objects.create(url="https://host.example/hooks", secret="s",
                                              created_at=NOW)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="order.paid", event_id="e1",
                                              payload={}, status="pending", created_at=NOW)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from podpiska.notifications.models import EmailMessage as NowEmailMessage
    from podpiska.notifications.models import WebhookDelivery as NowWebhookDelivery

    assert NowEmailMessage.objects.get(pk=letter.pk).next_attempt_at == NOW
    assert NowEmailMessage.objects.get(pk=failed.pk).next_attempt_at is None
    assert NowWebhookDelivery.objects.get(pk=delivery.pk).next_attempt_at == NOW
    assert list(NowEmailMessage.objects.due(NOW)) == [NowEmailMessage.objects.get(pk=letter.pk)]
