from django.contrib import admin

from podpiska.audit.models import AuditRecord
from podpiska.staff.site import staff_site


@admin.register(AuditRecord, site=staff_site)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "organization")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_id", "organization__name")
    readonly_fields = [f.name for f in AuditRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
