"""API keys of host products: issue (the raw key is shown once), look up, revoke."""

import hashlib
import secrets

from django.db import transaction
from django.db.models import Count

from podpiska.api.models import ApiKey
from podpiska.audit.changes import ALL, audited_update
from podpiska.audit.log import record, snapshot
from podpiska.core import clock

# A recognisable start lets a leaked key be found by secret scanners and in logs.
KEY_START = "ppk_"
PREFIX_LENGTH = 12


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_key(name: str, organizations=(), *, actor=None) -> tuple[ApiKey, str]:
    """Create a key for `organizations` (empty = every organization).

    Returns the key and the raw secret; only its SHA-256 is kept, so the raw value
    must be shown to the person right away and is never recoverable afterwards.
    """
    raw = KEY_START + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip() or "API",
            prefix=raw[:PREFIX_LENGTH],
            key_hash=hash_key(raw),
            created_at=clock.now(),
        )
        if organizations:
            key.organizations.set(organizations)
        record("api_key.issued", key, actor=actor, after=snapshot(key))
    return key, raw


def authenticate(raw: str | None) -> ApiKey | None:
    """The active key with this raw value, or None (unknown, malformed or revoked)."""
    if not raw or not raw.startswith(KEY_START) or len(raw) > 200:
        return None
    key = (
        ApiKey.objects.filter(key_hash=hash_key(raw), revoked_at__isnull=True)
        .annotate(scope_size=Count("organizations"))
        .first()
    )
    if key is None:
        return None
    now = clock.now()
    # Coarse to avoid a write per request under load; a minute is precise enough.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def key_allows(key: ApiKey, organization) -> bool:
    """Whether `key` may act for `organization` (an empty scope allows all)."""
    # `scope_size` comes with the key from `authenticate`: no query for unscoped keys.
    scope_size = getattr(key, "scope_size", None)
    if scope_size == 0:
        return True
    scope = set(key.organizations.values_list("pk", flat=True))
    return not scope or organization.pk in scope


def revoke_key(key: ApiKey, *, actor) -> ApiKey:
    """Revoke `key` now; repeating it changes nothing."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            return key
        audited_update(key, "api_key.revoked", actor, recorded=ALL, revoked_at=clock.now())
    return key


def change_key(key: ApiKey, *, name: str, organizations, actor) -> ApiKey:
    """Rename `key` or change the organizations it may act for; audited with the scope
    before and after (an emptied scope is a key for every organization). Saving
    unchanged values records nothing."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        audited_update(key, "api_key.changed", actor, recorded=["name", "organizations"],
                       name=name.strip() or key.name, organizations=list(organizations))
    return key
