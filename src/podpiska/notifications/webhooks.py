"""Outgoing webhooks to the host product (SPEC §7): an outbox of deliveries.

`enqueue` writes one delivery per active endpoint inside the caller's transaction, so
an event exists exactly when the state change committed. `deliver_due` (the worker's
tick) sends them: signed (`X-Podpiska-Signature:
t=<unix time>,v1=<HMAC-SHA256 hex of "<t>.<body>">`), retried with exponential backoff,
every attempt's outcome kept on the delivery (the log in /staff/).
"""

import hashlib
import hmac
import json
import logging
import uuid
from datetime import datetime, timedelta

import httpx
from django.db import transaction

from podpiska.core import bulk, clock
from podpiska.core.lookups import array_literal
from podpiska.notifications.models import WebhookDelivery, WebhookEndpoint
from podpiska.notifications.outbox import requeue

logger = logging.getLogger(__name__)


def endpoints_for(event: str) -> list[WebhookEndpoint]:
    """Active endpoints that take `event`."""
    return [endpoint for endpoint in active_endpoints() if takes(endpoint, event)]


def active_endpoints() -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(is_active=True).order_by("pk"))


def takes(endpoint: WebhookEndpoint, event: str) -> bool:
    """Whether the endpoint wants `event` (an empty list of events means all)."""
    return not endpoint.events or event in endpoint.events


def enqueue(event: str, *, organization, data: dict) -> list[WebhookDelivery]:
    rows = delivery_rows(event, [(organization, data)], endpoints_for(event))
    return WebhookDelivery.objects.bulk_create([WebhookDelivery(**row) for row in rows])


def enqueue_many(
    event: str, items: list[tuple[object, dict]], endpoints: list[WebhookEndpoint]
) -> list[int]:
    """One event per (organization, data), delivered to each of `endpoints`; written
    with one COPY on PostgreSQL (a tick or an import writes thousands). Returns ids."""
    return bulk.insert(WebhookDelivery, delivery_rows(event, items, endpoints))


def delivery_rows(
    event: str, items: list[tuple[object, dict]], endpoints: list[WebhookEndpoint]
) -> list[dict]:
    """The outbox rows of one event per (organization, data), for each endpoint."""
    if not endpoints or not items:
        return []
    now = clock.now()
    created_at = now.isoformat()
    rows = []
    for organization, data in items:
        event_id = uuid.uuid4().hex
        payload = {
            "id": event_id,
            "event": event,
            "created_at": created_at,
            "organization": {"id": organization.pk, "inn": organization.inn},
            "data": data,
        }
        rows.extend(
            {
                "endpoint_id": endpoint.pk,
                "event": event,
                "event_id": event_id,
                "payload": payload,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint in endpoints
        )
    return rows


def takers(events: list[str]) -> list[tuple[str, int]]:
    """(event, endpoint id) for each of `events` and each active endpoint that takes it."""
    endpoints = active_endpoints()
    return [(event, endpoint.pk) for event in events for endpoint in endpoints if takes(endpoint, event)]


def enqueue_sql(name: str, source: str, endpoints: list[tuple[str, int]]) -> tuple[str, dict]:
    """`enqueue_many` for PostgreSQL, for a statement that has the events at hand:
    `source` (a FROM clause) gives one event a row as (organization_id, inn, event, data
    jsonb); `endpoints` are `takers`. Returns two CTEs for its WITH, and their
    parameters: `<name>_events`, each event with its id and `delivery_rows`' payload,
    materialized so that an event draws its id once; `<name>`, the `INSERT … RETURNING
    id` of a delivery of each event to each endpoint that takes it."""
    now = clock.now()
    insert, params = bulk.insert_select(
        WebhookDelivery,
        {
            "endpoint_id": "t.endpoint_id",
            "event": "e.event",
            "event_id": "e.event_id",
            "payload": "e.payload",
            "next_attempt_at": "%(webhook_now)s",
            "created_at": "%(webhook_now)s",
        },
        f"{name}_events e JOIN unnest(%(webhook_events)s::text[], %(webhook_endpoints)s::bigint[]) "
        "AS t(event, endpoint_id) USING (event)",
    )
    payload = bulk.json_object({
        "id": "ev.event_id",
        "event": "ev.event",
        "created_at": "%(webhook_created_at)s::text",
        "organization": bulk.json_object({"id": "ev.organization_id", "inn": "ev.inn"}),
        "data": "ev.data",
    })
    sql = f"""{name}_events AS MATERIALIZED (
        SELECT ev.event, ev.event_id, {payload} AS payload
        -- OFFSET 0: a subquery of its own, so its id is one value wherever it is read.
        FROM (SELECT *, replace(gen_random_uuid()::text, '-', '') AS event_id
              FROM {source} OFFSET 0) AS ev
    ),
    {name} AS ({insert} RETURNING id)"""
    return sql, {
        **params,
        "webhook_created_at": now.isoformat(),
        "webhook_now": now,
        "webhook_events": array_literal([event for event, _ in endpoints]),
        "webhook_endpoints": array_literal([pk for _, pk in endpoints]),
    }


# --- Sending --------------------------------------------------------------------------

TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = WebhookDelivery.MAX_ATTEMPTS
# A claimed delivery is not due again for this long, so a worker that dies mid-send
# leaves it to be retried rather than lost, and a live one is never raced.
CLAIM_LEASE = timedelta(minutes=2)
SIGNATURE_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """HMAC-SHA256 of f"{timestamp}.{body}" with the endpoint's secret, in hex."""
    if isinstance(body, bytes):
        body = body.decode()
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: str | bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: str | bytes, *, now: datetime | None = None,
           tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: our signature, made within `tolerance` seconds of now."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp, received = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or not received:
        return False
    now = now or clock.now()
    if abs(now.timestamp() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), received)


def _claim(delivery_id: int, due_at: datetime) -> WebhookDelivery | None:
    """Take one due delivery for this worker, or None if another worker has it.

    The lease starts when the delivery is claimed, not when the worker's step began: a
    step that sends five hundred deliveries to a slow receiver runs for minutes, and a
    lease counted from its start would have run out before the last ones were sent,
    letting a second worker send them too.
    """
    with transaction.atomic():
        claimed_at = max(due_at, clock.now())
        # of=("self",): lock the delivery only. Locking the joined endpoint row too would
        # make the other workers skip every delivery to that endpoint, not just this one.
        delivery = (
            WebhookDelivery.objects.due(claimed_at).select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint").filter(pk=delivery_id).first()
        )
        if delivery is None:
            return None
        delivery.next_attempt_at = claimed_at + CLAIM_LEASE
        delivery.save(update_fields=["next_attempt_at"])
        return delivery


def body_of(delivery: WebhookDelivery) -> str:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _post(client: httpx.Client, delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = body_of(delivery)
    # Signed the moment it is sent: a receiver checks `t` against its own clock, so a
    # time taken earlier (the start of a long step) would age into a rejection.
    timestamp = int(clock.now().timestamp())
    try:
        response = client.post(
            delivery.endpoint.url,
            content=body.encode(),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Podpiska-Webhooks/1",
                "X-Podpiska-Event": delivery.event,
                "X-Podpiska-Delivery": delivery.event_id,
                "X-Podpiska-Signature": signature_header(delivery.endpoint.secret, timestamp, body),
            },
        )
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:2000]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"


def _finish(delivery: WebhookDelivery, status_code: int | None, error: str) -> bool:
    """Keep the attempt's outcome, if this worker still holds the delivery's lease."""
    lease = delivery.next_attempt_at
    # Every attempt's outcome is kept on the delivery, a success's too (no error).
    delivery.last_status_code = status_code
    delivery.last_error = error
    fields = ["last_status_code", "last_error", *delivery.finish(error, clock.now())]
    # A send that outlived its lease may have been taken over by another worker; its
    # outcome is the one kept (the receiver drops the repeat by X-Podpiska-Delivery).
    kept = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, next_attempt_at=lease
    ).update(**{field: getattr(delivery, field) for field in fields})
    if not kept:
        logger.warning("webhook %s: lease lost while sending, outcome left to its new holder",
                       delivery.pk)
    if error:
        logger.warning("webhook %s to %s failed (attempt %s): %s",
                       delivery.pk, delivery.endpoint.url, delivery.attempts, error)
    return not error and bool(kept)


def deliver_due(now: datetime) -> int:
    """Send every delivery due at `now` once; returns how many were delivered.

    Each is claimed in a short transaction just before it is sent (skip_locked on
    PostgreSQL, so two workers split the work), with a lease counted from that moment
    and far longer than one send (TIMEOUT_SECONDS), and sent outside the transaction,
    so no row lock is held during the HTTP call.
    """
    delivered = 0
    due_ids = list(WebhookDelivery.objects.due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:500])
    if not due_ids:
        return 0
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        for delivery_id in due_ids:
            delivery = _claim(delivery_id, now)
            if delivery is None:
                continue
            status_code, error = _post(client, delivery)
            delivered += _finish(delivery, status_code, error)
    return delivered


def resend(delivery: WebhookDelivery, *, actor=None) -> bool:
    """Staff: send a delivery again at the next run (a delivered one too: a lost event;
    a failed one with a fresh round of retries). Returns whether it was put back."""
    return requeue(delivery, actor=actor)
