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
    "invoice.issued",
    "limit.changed",
    "payment.queued",
)


def publish(event: str, *, organization, data: dict) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    webhooks.enqueue(event, organization=organization, data=data)
    email_notices.handle(event, organization=organization, data=data)
