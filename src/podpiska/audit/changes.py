"""Change or create one object together with its audit record.

Every single-object state change is the same four steps: the values before, the new
values set, the row saved, the record written — and nothing at all when the values
are already what they would become (Zulip's early return: repeating an action neither
writes nor records). They are written here once. An action that changes many rows at
once records them with `log.record_many`.
"""

from django.db import models

from podpiska.audit.log import record, snapshot
from podpiska.core import clock

# `recorded=ALL`: the record shows the whole row before and after, not only what changed.
ALL = "__all__"
# Set to the time of the change whenever a model with this field changes.
TOUCHED_FIELD = "updated_at"


def _shown(recorded, changes: dict) -> list[str] | None:
    """The fields read for the record (None: all of them)."""
    if recorded == ALL:
        return None
    return list(dict.fromkeys([*(recorded or ()), *changes]))


def _pks(values) -> list:
    """A many-to-many value as `snapshot` shows it: the related ids, sorted."""
    return sorted(getattr(value, "pk", value) for value in values)


def audited_update(obj: models.Model, action: str, actor, /, *, recorded=None, **changes) -> bool:
    """Set `changes` (field name → new value) on `obj`, save the fields that differ and
    record `action` by `actor`; returns whether anything changed.

    When every value already is what it would become, nothing is saved and nothing is
    recorded. The record's `before`/`after` hold the fields that changed — or the
    `recorded` fields (a list, or ALL for the whole row) where the action's record shows
    more than it changes. A many-to-many field takes the related objects (or ids). A
    model with `updated_at` gets it set to now when something changes.
    """
    meta = obj._meta
    many = {name for name in changes if meta.get_field(name).many_to_many}
    shown = _shown(recorded, changes)
    before = snapshot(obj, shown)
    for name, value in changes.items():
        if name not in many:
            setattr(obj, name, value)
    after = {**snapshot(obj, [name for name in changes if name not in many]),
             **{name: _pks(changes[name]) for name in many}}
    changed = [name for name in changes if after[name] != before[name]]
    if not changed:
        return False
    fields = [name for name in changed if name not in many]
    if fields:
        if TOUCHED_FIELD not in changes and any(f.name == TOUCHED_FIELD for f in meta.concrete_fields):
            setattr(obj, TOUCHED_FIELD, clock.now())
            fields.append(TOUCHED_FIELD)
        obj.save(update_fields=fields)
    for name in many:
        if name in changed:
            getattr(obj, name).set(changes[name])
    after = snapshot(obj, shown)
    if recorded is None:
        before = {name: before[name] for name in changed}
        after = {name: after[name] for name in changed}
    record(action, obj, actor=actor, before=before, after=after)
    return True


def audited_create(model_or_obj, action: str, actor, /, *, recorded=None, **values) -> models.Model:
    """Create a row (from a model and its `values`, or save a new instance with `values`
    set) and record `action` by `actor`, its `after` the whole row or the `recorded`
    fields. Returns the object."""
    if isinstance(model_or_obj, models.Model):
        obj = model_or_obj
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save(force_insert=True)
    else:
        obj = model_or_obj.objects.create(**values)
    record(action, obj, actor=actor, after=snapshot(obj, None if recorded in (None, ALL) else recorded))
    return obj
