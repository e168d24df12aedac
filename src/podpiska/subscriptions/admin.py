from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from podpiska.core import clock
from podpiska.staff.site import staff_site
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import status_of


@admin.register(Subscription, site=staff_site)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("organization", "tariff_name", "starts_at", "ends_at", "status", "export_limit", "extra_exports")
    search_fields = ("organization__name", "organization__inn")
    list_select_related = ("organization",)
    readonly_fields = [f.name for f in Subscription._meta.fields]

    @admin.display(description=_("статус"))
    def status(self, obj):
        return status_of(obj, clock.now()).label

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
