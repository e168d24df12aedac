"""Admin pieces every app's admin may share."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept as they were written (documents, payments, audit): seen, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
