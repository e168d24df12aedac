from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from podpiska.accounts import admin as accounts_admin
from podpiska.accounts.models import Organization
from podpiska.core import clock
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import status_of


@admin.register(Subscription)
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

    def has_change_permission(self, request, obj=None):
        return False  # only payments make subscriptions

    def has_delete_permission(self, request, obj=None):
        return False


class SubscriptionInline(admin.TabularInline):
    """The organization's timeline: read-only, since only payments create subscriptions."""

    model = Subscription
    extra = 0
    can_delete = False
    fields = ("tariff_name", "starts_at", "ends_at", "export_limit", "extra_exports", "field_set", "price", "order")
    readonly_fields = fields
    ordering = ("starts_at",)

    def has_add_permission(self, request, obj=None):
        return False


# The organization's page shows its timeline too. Accounts sit below subscriptions and know
# nothing of them, so the page is extended here (importing accounts' admin loads it first).
admin.site.unregister(Organization)


@admin.register(Organization)
class OrganizationAdmin(accounts_admin.OrganizationAdmin):
    inlines = [*accounts_admin.OrganizationAdmin.inlines, SubscriptionInline]
