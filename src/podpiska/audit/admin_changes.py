"""The audit record of a plain admin edit (organizations, users, memberships).

Models with a rule behind their changes are changed through their domain action
(tariffs, support answers, API keys, webhook endpoints). The rest are edited by the
admin's own forms; this mixin makes every such save write an audit record in the
admin's transaction, with the row before and after — and never a password hash or a
secret. The admin calls `log_addition`/`log_change` after it has saved the object and
its relations, including on the user's password page, so one hook catches them all.
"""

from django.db import transaction

from podpiska.audit.log import record, snapshot

# Never copied into the audit log: whoever reads the log must not learn them.
HIDDEN_FIELDS = {"password", "secret", "key_hash"}


def audit_snapshot(obj) -> dict:
    data = snapshot(obj) or {}
    for name in HIDDEN_FIELDS & data.keys():
        data[name] = "***"
    for name, value in data.items():
        if isinstance(value, list):
            data[name] = sorted(value, key=str)  # m2m order is not a change
    return data


def _action(obj, verb: str) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}_{verb}"


class AuditedAdminMixin:
    """For a ModelAdmin: every add and change, and every inline row added, changed or
    removed, is audited. (Deleting the object itself is switched off where it is used.)"""

    def save_model(self, request, obj, form, change):
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            request._audit_before = audit_snapshot(stored) if stored else None
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # Rows an inline deletes lose their pk on delete: snapshot them first.
        deleted = [(f.instance, f.instance.pk, audit_snapshot(f.instance))
                   for f in formset.deleted_forms if f.instance.pk]
        befores = {
            f.instance.pk: audit_snapshot(type(f.instance)._default_manager.get(pk=f.instance.pk))
            for f in formset.initial_forms if f.instance.pk and f.has_changed()
        }
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            record(_action(obj, "created"), obj, actor=request.user, after=audit_snapshot(obj))
        for obj, _fields in formset.changed_objects:
            record(_action(obj, "changed"), obj, actor=request.user,
                   before=befores.get(obj.pk), after=audit_snapshot(obj))
        for obj, pk, before in deleted:
            obj.pk = pk
            record(_action(obj, "deleted"), obj, actor=request.user, before=before)
            obj.pk = None

    def log_addition(self, request, obj, message):
        record(_action(obj, "created"), obj, actor=request.user, after=audit_snapshot(obj))
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        before = getattr(request, "_audit_before", None)
        after = audit_snapshot(obj)
        verb = getattr(request, "_audit_verb", "changed")
        if verb != "changed" or after != before:
            record(_action(obj, verb), obj, actor=request.user, before=before, after=after)
        return super().log_change(request, obj, message)


def audited_password_change(view):
    """Wrap UserAdmin.user_change_password: the new password and its audit record (with
    no hash in it) are saved together or not at all."""

    def wrapped(self, request, *args, **kwargs):
        request._audit_verb = "password_changed"
        with transaction.atomic():
            return view(self, request, *args, **kwargs)

    return wrapped
