"""API keys of host products: issue (the raw key is shown once), look up, revoke."""

import functools
import hashlib
import secrets
from datetime import datetime

from django.db import connection, transaction

from podpiska.api.models import ApiKey
from podpiska.audit.changes import ALL, audited_update
from podpiska.audit.log import record, snapshot
from podpiska.core import clock
from podpiska.core import raw as raw_rows
from podpiska.subscriptions import quota
from podpiska.subscriptions.models import QuotaPeriod

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
    if not _well_formed(raw):
        return None
    with raw_rows.cursor() as cursor:
        cursor.execute(_key_sql(), {"key_hash": hash_key(raw)})
        return _key_from(cursor.fetchone())


def authenticate_spending(
    raw: str | None, organization_id: int, at: datetime
) -> tuple[ApiKey | None, QuotaPeriod | None]:
    """`authenticate`, and with it `quota.term_period_in_force(organization_id, at)`, in
    one statement: every export asks both, and a round trip is most of what each costs.
    The period is read only for an active key."""
    if not _well_formed(raw):
        return None, None
    with raw_rows.cursor() as cursor:
        cursor.execute(
            _key_sql(with_term_period=True),
            {**quota.term_period_params(organization_id, at), "key_hash": hash_key(raw)},
        )
        row = cursor.fetchone()
    key = _key_from(row)
    return key, (quota.term_period_from(row[_KEY_WIDTH:]) if key else None)


def _well_formed(raw: str | None) -> bool:
    return bool(raw) and raw.startswith(KEY_START) and len(raw) <= 200


# The key's columns and the size of its scope.
_KEY_WIDTH = raw_rows.width(ApiKey) + 1


@functools.cache
def _key_sql(with_term_period: bool = False) -> str:
    """The active key by its hash, with the size of its scope (and the period of
    `quota.term_period_sql` after them).

    Written in SQL: every API call asks it, and building the query would cost more than
    running it. Looked up every time, never cached: a revoked key is refused from its
    next request on."""
    quote = connection.ops.quote_name
    scope = ApiKey.organizations.through._meta
    key_column = quote(scope.get_field("apikey").column)
    select = (
        f"SELECT {raw_rows.columns(ApiKey, 'k')}, "
        f"(SELECT count(*) FROM {quote(scope.db_table)} s WHERE s.{key_column} = k.id)"
    )
    tables = f"FROM {quote(ApiKey._meta.db_table)} k"
    if with_term_period:
        select += ", period.*"
        tables += f" LEFT JOIN ({quota.term_period_sql()}) period ON 1 = 1"
    return f"{select} {tables} WHERE k.key_hash = %(key_hash)s AND k.revoked_at IS NULL"


def _key_from(row) -> ApiKey | None:
    if row is None:
        return None
    key = raw_rows.instance(ApiKey, row[: _KEY_WIDTH - 1])
    key.scope_size = row[_KEY_WIDTH - 1]
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
