"""Staff issue, revoke and inspect integration objects in /staff/."""

import hashlib

import pytest
from django.test import Client

from podpiska.api.keys import authenticate
from podpiska.api.models import ApiKey
from podpiska.notifications.models import WebhookDelivery, WebhookEndpoint
from podpiska.notifications.webhooks import enqueue
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    user = factories.make_user("staff@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_creating_a_key_shows_the_raw_key_once(staff, clock, org):
    response = staff.post("/staff/api/apikey/add/", {"name": "Справочник", "organizations": [org.pk]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get()
    raw = response.context["raw_key"]
    assert raw.encode() in response.content
    assert hashlib.sha256(raw.encode()).hexdigest() == key.key_hash
    assert list(key.organizations.all()) == [org]
    assert authenticate(raw) == key
    page = staff.get(f"/staff/api/apikey/{key.pk}/change/")
    assert page.status_code == 200 and raw.encode() not in page.content
    assert raw.encode() not in staff.get("/staff/api/apikey/").content


def test_revoke_action(staff, clock):
    staff.post("/staff/api/apikey/add/", {"name": "Сервис"})
    key = ApiKey.objects.get()
    staff.post("/staff/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_endpoint_gets_a_secret_and_the_log_resends(staff, clock, org):
    response = staff.post("/staff/notifications/webhookendpoint/add/", {
        "url": "https://host.example/hooks", "events": ["order.paid", "limit.changed"], "is_active": "on",
    })
    assert response.status_code == 200  # the page that shows the new secret once
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.events == ["order.paid", "limit.changed"]
    assert endpoint.secret.encode() in response.content
    [delivery] = enqueue("order.paid", organization=org, data={"order_id": 1})
    WebhookDelivery.objects.update(status="failed", attempts=10, next_attempt_at=None)
    assert staff.get("/staff/notifications/webhookdelivery/").status_code == 200
    assert staff.get(f"/staff/notifications/webhookdelivery/{delivery.pk}/change/").status_code == 200
    staff.post("/staff/notifications/webhookdelivery/", {"action": "resend_selected", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at == clock.now()


def test_export_log_and_periods_are_visible_to_staff(staff, clock, tariffs, org):
    from podpiska.subscriptions import quota

    quota.consume(org, rows=7, field_set="basic", idempotency_key="k", actor_label="api:ppk_x… Справочник", at=clock.now())
    page = staff.get("/staff/subscriptions/exportrecord/")
    assert page.status_code == 200 and "Справочник".encode() in page.content
    assert staff.get("/staff/subscriptions/quotaperiod/").status_code == 200


def test_endpoint_bad_input_and_unchanged_saves_write_nothing(staff, clock):
    from podpiska.audit.models import AuditRecord

    for data in [{"url": "not a url"}, {"url": "https://x.example/" + "a" * 300},
                 {"url": "https://x.example/", "events": ["no.such.event"]}]:
        response = staff.post("/staff/notifications/webhookendpoint/add/", data)
        assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists() and not AuditRecord.objects.exists()
    staff.post("/staff/notifications/webhookendpoint/add/", {"url": "https://host.example/hooks",
                                                             "is_active": "on"})
    endpoint = WebhookEndpoint.objects.get()
    url = f"/staff/notifications/webhookendpoint/{endpoint.pk}/change/"
    for _ in range(2):  # saved twice unchanged: one creation record, no change records
        staff.post(url, {"url": "https://host.example/hooks", "is_active": "on"})
    assert list(AuditRecord.objects.values_list("action", flat=True)) == [
        "notifications.webhook_endpoint_created"]
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
