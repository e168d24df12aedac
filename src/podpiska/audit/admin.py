from django.contrib import admin

from podpiska.audit.models import AuditRecord
from podpiska.core.admin import ReadOnlyAdmin


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "organization")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_id", "organization__name")
    readonly_fields = [f.name for f in AuditRecord._meta.fields]
