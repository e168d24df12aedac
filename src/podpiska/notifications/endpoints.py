"""Webhook endpoints of the host product: add, change, rotate the signing secret.

The secret signs every event (HMAC), so whoever reads it can forge events. It is made
here, returned once to the person who created or rotated it, and never shown again:
not in the back-office, not in the audit log (which records only that it changed).
"""

import secrets

from django.db import transaction

from podpiska.audit.changes import audited_create, audited_update
from podpiska.audit.log import record
from podpiska.core import clock
from podpiska.notifications.models import WebhookEndpoint

SECRET_START = "whsec_"
# What the audit log keeps of an endpoint: everything but the secret.
AUDITED_FIELDS = ["url", "events", "is_active", "created_at"]


def new_secret() -> str:
    return SECRET_START + secrets.token_urlsafe(24)


def create_endpoint(*, url: str, events: list[str], is_active: bool = True,
                    actor) -> tuple[WebhookEndpoint, str]:
    """A new endpoint with a fresh secret; returns it and the secret to show once."""
    secret = new_secret()
    with transaction.atomic():
        endpoint = audited_create(
            WebhookEndpoint, "notifications.webhook_endpoint_created", actor,
            recorded=AUDITED_FIELDS, url=url, events=list(events), is_active=is_active,
            secret=secret, created_at=clock.now(),
        )
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, *, url: str, events: list[str], is_active: bool,
                    actor) -> WebhookEndpoint:
    """Change where and what is sent; the secret stays. Saving unchanged values records
    nothing."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        audited_update(endpoint, "notifications.webhook_endpoint_changed", actor,
                       recorded=AUDITED_FIELDS, url=url, events=list(events), is_active=is_active)
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint, *, actor) -> tuple[WebhookEndpoint, str]:
    """Replace the secret (a leaked one stops working at once); returns the new one."""
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.secret = secret
        endpoint.save(update_fields=["secret"])
        record("notifications.webhook_secret_rotated", endpoint, actor=actor,
               after={"secret": "rotated"})
    return endpoint, secret
