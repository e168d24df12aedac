"""Outgoing webhooks against a real local HTTP receiver (http.server in a thread).

Events are enqueued directly (what `events.publish` does for webhooks), so no e-mail
handler needs a real order behind the event.
"""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from podpiska.audit.models import AuditRecord
from podpiska.notifications import webhooks
from podpiska.notifications.models import WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

SECRET = "whsec_test"


class Receiver:
    """A host product's webhook endpoint: records requests, answers from a script."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        # Called with each request before it is answered: a slow receiver, a check.
        self.on_request = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = {"headers": dict(self.headers), "body": body}
                receiver.requests.append(request)
                if receiver.on_request is not None:
                    receiver.on_request(request)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/podpiska"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def endpoint(receiver, db):
    return WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, created_at=NOW)


def test_signature_is_verifiable_by_the_receiver(clock, org, endpoint, receiver):
    webhooks.enqueue("order.paid", organization=org, data={"order_id": 7, "amount": 13_440_000})
    assert webhooks.deliver_due(clock.now()) == 1
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["X-Podpiska-Event"] == "order.paid"
    assert headers["Content-Type"].startswith("application/json")
    # What a receiver does: recompute HMAC-SHA256 over "<t>.<body>" with its secret.
    t, v1 = (part.split("=", 1)[1] for part in headers["X-Podpiska-Signature"].split(","))
    assert t == str(int(NOW.timestamp()))
    assert v1 == webhooks.sign(SECRET, t, body)
    assert webhooks.verify(SECRET, headers["X-Podpiska-Signature"], body, now=NOW)
    assert not webhooks.verify("other-secret", headers["X-Podpiska-Signature"], body, now=NOW)
    assert not webhooks.verify(SECRET, headers["X-Podpiska-Signature"], body + b" ", now=NOW)
    assert not webhooks.verify(SECRET, headers["X-Podpiska-Signature"], body, now=NOW + timedelta(hours=1))
    payload = json.loads(body)
    assert payload["event"] == "order.paid" and payload["data"] == {"order_id": 7, "amount": 13_440_000}
    assert payload["organization"] == {"id": org.pk, "inn": org.inn}
    assert headers["X-Podpiska-Delivery"] == payload["id"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status_code == 200
    assert webhooks.deliver_due(clock.now()) == 0  # sent once


def test_a_500_is_retried_with_exponential_backoff(clock, org, endpoint, receiver):
    receiver.answers = [500, 500, 503]
    webhooks.enqueue("limit.changed", organization=org, data={"limit": 155_000})
    assert webhooks.deliver_due(clock.now()) == 0
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.last_status_code, delivery.status) == (1, 500, "pending")
    assert delivery.next_attempt_at == NOW + timedelta(minutes=1)
    assert webhooks.deliver_due(clock.now()) == 0 and len(receiver.requests) == 1  # not due yet
    clock.shift(timedelta(minutes=1))
    webhooks.deliver_due(clock.now())
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == clock.now() + timedelta(minutes=2)
    clock.shift(timedelta(minutes=2))
    webhooks.deliver_due(clock.now())
    delivery.refresh_from_db()
    assert delivery.attempts == 3 and delivery.last_status_code == 503
    assert "HTTP 503" in delivery.last_error
    assert delivery.next_attempt_at == clock.now() + timedelta(minutes=4)
    clock.shift(timedelta(minutes=4))
    assert webhooks.deliver_due(clock.now()) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 4 and delivery.last_error == ""
    # Every attempt carried the same event id, so the receiver can drop duplicates.
    assert len({r["headers"]["X-Podpiska-Delivery"] for r in receiver.requests}) == 1


def test_gives_up_after_ten_attempts_and_staff_can_resend(clock, org, endpoint, receiver, owner):
    receiver.answers = [500] * 10
    webhooks.enqueue("order.paid", organization=org, data={})
    for _ in range(10):
        webhooks.deliver_due(clock.now())
        clock.shift(timedelta(days=1))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 10 and delivery.next_attempt_at is None
    assert len(receiver.requests) == 10
    webhooks.resend(delivery, actor=owner)
    assert AuditRecord.objects.filter(action="notifications.webhook_resend").exists()
    assert webhooks.deliver_due(clock.now()) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_unreachable_endpoint_is_logged_and_retried(clock, org, db):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/closed", secret=SECRET, created_at=NOW)
    webhooks.enqueue("order.paid", organization=org, data={})
    assert webhooks.deliver_due(clock.now()) == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code is None and "ConnectError" in delivery.last_error
    assert delivery.status == "pending" and delivery.next_attempt_at == NOW + timedelta(minutes=1)


def test_endpoint_event_filter_and_inactive_endpoints(clock, org, receiver, db):
    WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, created_at=NOW, events=["order.paid"])
    WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, created_at=NOW, is_active=False)
    webhooks.enqueue("limit.changed", organization=org, data={})
    webhooks.enqueue("order.paid", organization=org, data={})
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == ["order.paid"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_deliver_each_event_once(clock, receiver):
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    org = factories.make_org()
    WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, created_at=NOW)
    for n in range(20):
        webhooks.enqueue("order.paid", organization=org, data={"n": n})
    barrier = threading.Barrier(4)
    counts, errors = [], []

    def worker():
        try:
            barrier.wait()
            counts.append(webhooks.deliver_due(NOW))
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and sum(counts) == 20
    assert len(receiver.requests) == 20
    assert len({r["headers"]["X-Podpiska-Delivery"] for r in receiver.requests}) == 20
    assert WebhookDelivery.objects.filter(status="delivered", attempts=1).count() == 20


def test_each_delivery_is_signed_when_it_is_sent(clock, org, endpoint, receiver):
    """A receiver answering slowly: every delivery of a long step still arrives with a
    fresh signature (300 s of tolerance), not one dated from the step's start."""
    accepted = []

    def slow_receiver(request):
        header = request["headers"]["X-Podpiska-Signature"]
        accepted.append(webhooks.verify(SECRET, header, request["body"]))
        clock.shift(timedelta(seconds=200))  # this answer takes 200 s

    receiver.on_request = slow_receiver
    for n in range(4):
        webhooks.enqueue("order.paid", organization=org, data={"n": n})
    assert webhooks.deliver_due(clock.now()) == 4
    assert accepted == [True, True, True, True]
    stamps = [int(r["headers"]["X-Podpiska-Signature"].split(",")[0][2:]) for r in receiver.requests]
    assert stamps == [int(NOW.timestamp()) + 200 * n for n in range(4)]
    # Delivered at the moment the answer came, not at the step's start.
    last = WebhookDelivery.objects.order_by("-pk").first()
    assert last.delivered_at == NOW + timedelta(seconds=800)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_step_longer_than_the_lease_is_not_raced_by_a_second_worker(clock, receiver):
    """Worker A's step outlasts CLAIM_LEASE; worker B starts while A sends its last
    delivery. Each lease is counted from its own claim, so B finds nothing to send."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    org = factories.make_org()
    WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, created_at=NOW)
    for n in range(3):
        webhooks.enqueue("order.paid", organization=org, data={"n": n})
    last_event = WebhookDelivery.objects.order_by("-pk").values_list("event_id", flat=True)[0]
    b_started, b_done = threading.Event(), threading.Event()
    verified, b_counts, errors = [], [], []

    def worker_b():
        try:
            b_counts.append(webhooks.deliver_due(clock.now()))
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()
            b_done.set()

    def slow_receiver(request):
        headers = request["headers"]
        verified.append(webhooks.verify(SECRET, headers["X-Podpiska-Signature"], request["body"]))
        if headers["X-Podpiska-Delivery"] == last_event and not b_started.is_set():
            # A is mid-send of its last delivery, 200 s (> the 120 s lease) into its step.
            b_started.set()
            threading.Thread(target=worker_b).start()
            assert b_done.wait(10)
        else:
            clock.shift(timedelta(seconds=100))

    receiver.on_request = slow_receiver
    a_counts = []

    def worker_a():
        try:
            a_counts.append(webhooks.deliver_due(clock.now()))
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker_a)
    thread.start()
    thread.join(30)

    assert errors == [] and b_started.is_set()
    assert a_counts == [3] and b_counts == [0]
    events = [r["headers"]["X-Podpiska-Delivery"] for r in receiver.requests]
    assert len(events) == 3 and len(set(events)) == 3  # nothing sent twice
    assert all(verified)
    assert WebhookDelivery.objects.filter(status="delivered", attempts=1).count() == 3
