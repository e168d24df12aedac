"""Outgoing webhooks to the host product (SPEC §7): an outbox of deliveries.

`enqueue` writes one delivery per active endpoint inside the caller's transaction, so
an event exists exactly when the state change committed; the worker sends them.
"""

import uuid

from podpiska.core import clock
from podpiska.notifications.models import WebhookDelivery, WebhookEndpoint


def enqueue(event: str, *, organization, data: dict) -> list[WebhookDelivery]:
    event_id = uuid.uuid4().hex
    payload = {
        "id": event_id,
        "event": event,
        "created_at": clock.now().isoformat(),
        "organization": {"id": organization.pk, "inn": organization.inn},
        "data": data,
    }
    deliveries = []
    for endpoint in WebhookEndpoint.objects.filter(is_active=True):
        if endpoint.events and event not in endpoint.events:
            continue
        deliveries.append(
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                event=event,
                event_id=event_id,
                payload=payload,
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
        )
    return deliveries
