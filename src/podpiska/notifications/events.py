"""Domain events: the one call an action makes after a state change.

Everything that reacts to an event (webhooks to the host product, e-mails to people)
is written to an outbox in the action's own transaction and sent by the worker after
commit, so a rolled-back action notifies no one and a stopped worker loses nothing.
"""

from podpiska.notifications import email_notices, webhooks

EVENTS = (
    "subscription.activated",
    "subscription.expiring",
    "subscription.ended",
    "order.created",
    "order.paid",
    "order.cancelled",
    "invoice.issued",
    "limit.changed",
    "payment.queued",
)


def publish(event: str, *, organization, data: dict) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    webhooks.enqueue(event, organization=organization, data=data)
    email_notices.handle(event, organization=organization, data=data)


def publish_many(event: str, items: list[tuple[int, dict]]) -> None:
    """`publish` for many organizations at once, given by id with each one's data.

    A statement import fulfils thousands of orders in one transaction: the webhook
    endpoints and the people to e-mail are looked up once for all of them, the letters
    written with one statement, and the organizations loaded only for webhooks.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if not items:
        return
    endpoints = webhooks.endpoints_for(event)
    recipients = email_notices.recipients_for(event, {org_id for org_id, _ in items})
    email_notices.handle_many(event, items, recipients)
    if not endpoints:
        return
    from podpiska.accounts.models import Organization

    # The payload names the organization by id and INN: nothing else is read.
    organizations = {
        org.pk: org
        for org in Organization.objects.filter(
            pk__any_of=sorted({org_id for org_id, _ in items})
        ).only("pk", "inn")
    }
    webhooks.enqueue_many(
        event, [(organizations[org_id], data) for org_id, data in items], endpoints
    )


def publish_all(organization, events: list[tuple[str, dict]], *, along=()) -> None:
    """Several events of one organization from one action (a payment that fulfils an
    order: `subscription.activated` and `order.paid`): the webhook endpoints are read
    once, and every event's letters and webhook rows are written with one statement
    (`bulk.insert_together`) together with `along`, the action's own rows ((model,
    rows), …: one payment's audit records) — one round trip for all of them."""
    from podpiska.core import bulk
    from podpiska.notifications.email import send_when_committed
    from podpiska.notifications.models import EmailMessage, WebhookDelivery

    for event, _ in events:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}")
    endpoints = webhooks.active_endpoints() if events else []
    letters, deliveries = [], []
    for event, data in events:
        takers = [endpoint for endpoint in endpoints if webhooks.takes(endpoint, event)]
        deliveries.extend(webhooks.delivery_rows(event, [(organization, data)], takers))
        letters.extend(email_notices.letter_rows(event, organization=organization, data=data))
    *_, letter_ids, _ = bulk.insert_together(
        [*along, (EmailMessage, letters), (WebhookDelivery, deliveries)]
    )
    send_when_committed(letter_ids)
