"""Write the audit record of a state change, inside the action's transaction."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import models
from django.forms.models import model_to_dict

from podpiska.audit.models import AuditRecord
from podpiska.core import clock

SYSTEM = "system"


def _jsonable(value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        # In UTC, as the database renders an instant: a record reads the same whichever
        # path wrote it (`record_many` builds its snapshots in SQL).
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model | None, fields: list[str] | None = None) -> dict | None:
    """The object's field values as JSON, for `before`/`after`."""
    if obj is None:
        return None
    data = model_to_dict(obj, fields=fields)
    for field in obj._meta.concrete_fields:
        if (fields is None or field.name in fields) and field.name not in data:
            data[field.name] = getattr(obj, field.attname)
    for field in obj._meta.many_to_many:
        if field.name in data:
            # The related ids in a set order: the order they are read in is not a change.
            data[field.name] = sorted(related.pk for related in data[field.name])
    return _jsonable(data)


def actor_of(actor) -> tuple[object | None, str]:
    """The user (or None) and the label an audit record shows for `actor`: a user,
    a label such as "yookassa", or None for the system."""
    user = actor if getattr(actor, "pk", None) else None
    return user, (user.email if user else (actor or SYSTEM))


def record(
    action: str,
    obj: models.Model,
    *,
    actor=None,
    organization=None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditRecord:
    """Record `action` on `obj` by `actor` (a user, or None for the system)."""
    if organization is None:
        organization = getattr(obj, "organization", None)
        if organization is None and obj._meta.model_name == "organization":
            organization = obj
    user, label = actor_of(actor)
    return AuditRecord.objects.create(
        at=clock.now(),
        actor=user,
        actor_label=label,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        organization=organization,
        before=_jsonable(before),
        after=_jsonable(after),
    )


def record_row(
    action: str,
    object_type: str,
    object_id,
    *,
    organization_id: int | None,
    actor=None,
    before: dict | None = None,
    after: dict | None = None,
    at: datetime | None = None,
) -> dict:
    """An audit record's row (values by attname), not yet written: an action that changes
    several objects writes all of its records with one statement (`core.bulk`)."""
    user, label = actor_of(actor)
    return {
        "at": at or clock.now(), "actor_id": getattr(user, "pk", None), "actor_label": label,
        "action": action, "object_type": object_type, "object_id": str(object_id),
        "organization_id": organization_id, "before": _jsonable(before), "after": _jsonable(after),
    }


def record_many(
    action: str,
    model: type[models.Model],
    ids: list[int],
    *,
    actor=None,
    before_changes: dict | None = None,
    fields: list[str] | None = None,
) -> None:
    """An audit record of `action` for every row of `model` in `ids`, written at once.

    `before_changes`, when given, are the fields the change altered with their values
    before it (the same for every row): `before` holds them and `after` holds the same
    fields as the change left them. Without it (a creation) `after` is the whole row,
    or only `fields` when the row keeps the rest itself (a payment's bank document).
    A change of fifty thousand orders records what changed, not each order twice.
    On PostgreSQL the snapshots are built by the database from the rows just written,
    with the keys and value formats of `snapshot` (a test compares the two); elsewhere
    the objects are loaded and `snapshot` is called.
    """
    if not ids:
        return
    from django.db import connections

    from podpiska.core import bulk
    from podpiska.core.lookups import array_literal

    user, label = actor_of(actor)
    at = clock.now()
    db = connections[AuditRecord.objects.db]
    object_type = model._meta.label_lower
    if db.vendor != "postgresql":
        records = []
        changed = list(before_changes) if before_changes is not None else fields
        for obj in model.objects.filter(pk__any_of=sorted(ids)).order_by("pk"):
            after = snapshot(obj, changed)
            before = _jsonable(before_changes)
            records.append(
                AuditRecord(
                    at=at, actor=user, actor_label=label, action=action,
                    object_type=object_type, object_id=str(obj.pk),
                    organization_id=_organization_of(obj), before=before, after=after,
                )
            )
        AuditRecord.objects.bulk_create(records, batch_size=bulk.CHUNK)
        return
    import psycopg
    from psycopg.types.json import Jsonb

    quote = db.ops.quote_name
    meta = model._meta
    pairs = ", ".join(
        f"'{field.name}', t.{quote(field.column)}"
        for field in meta.concrete_fields
        if (before_changes is None and fields is None)
        or field.name in (before_changes if before_changes is not None else fields)
    )
    organization = (
        f"t.{quote('organization_id')}"
        if any(field.attname == "organization_id" for field in meta.concrete_fields)
        else ("t.id" if meta.model_name == "organization" else "NULL")
    )
    table = quote(AuditRecord._meta.db_table)
    columns = ", ".join(
        quote(c)
        for c in ("at", "actor_id", "actor_label", "action", "object_type", "object_id",
                  "organization_id", "before", "after")
    )
    sql = (
        f"INSERT INTO {table} ({columns}) "
        f"SELECT %(at)s, %(actor)s, %(label)s, %(action)s, %(type)s, s.id::text, s.org, "
        f"%(before)s, s.snap "
        f"FROM (SELECT t.id, {organization} AS org, jsonb_build_object({pairs}) AS snap "
        f"FROM {quote(meta.db_table)} t WHERE t.id IN (SELECT unnest(%(ids)s::bigint[])) "
        f"ORDER BY t.id) s"
    )
    params = {
        "at": at, "actor": getattr(user, "pk", None), "label": label, "action": action,
        "type": object_type,
        "before": None if before_changes is None else Jsonb(_jsonable(before_changes)),
        "ids": array_literal(list(ids)),
    }
    db.ensure_connection()
    # One array bound by the server, not a list quoted value by value on the client.
    with psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, params)


def _organization_of(obj):
    organization_id = getattr(obj, "organization_id", None)
    if organization_id is None and obj._meta.model_name == "organization":
        return obj.pk
    return organization_id


# What «payment.recorded» keeps: how the payment entered the books (state, reason,
# order, organization), which later changes alter. The bank document itself (payer,
# account, purpose, …) never changes and stays on the payment row; staff pages read it
# there. The record's own columns say who and when.
PAYMENT_RECORDED_FIELDS = ["state", "queue_reason", "order", "organization"]
