from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from podpiska.audit.models import AuditRecord
from podpiska.audit.names import ACTION_NAMES
from podpiska.core.admin import ReadOnlyAdmin


class ActionFilter(admin.SimpleListFilter):
    """The actions by their Russian names (the codes stay in the address)."""

    title = _("действие")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(((code, name) for code, name in ACTION_NAMES.items()), key=lambda item: str(item[1]))

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action_display", "object_type", "object_id", "organization")
    list_filter = (ActionFilter, "object_type")
    search_fields = ("actor_label", "object_id", "organization__name")
    readonly_fields = ["action_display", *[f.name for f in AuditRecord._meta.fields]]

    @admin.display(description=_("действие"), ordering="action")
    def action_display(self, record):
        return record.action_name

