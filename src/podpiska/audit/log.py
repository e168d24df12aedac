"""Write the audit record of a state change, inside the action's transaction."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import models
from django.forms.models import model_to_dict

from podpiska.audit.models import AuditRecord
from podpiska.core import clock

SYSTEM = "system"


def _jsonable(value):
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
