from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from podpiska.accounts.models import Membership, Organization, User
from podpiska.staff.site import staff_site
from podpiska.subscriptions.models import Subscription


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


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


@admin.register(Organization, site=staff_site)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("short_name", "inn", "kpp", "ogrn", "timezone")
    search_fields = ("name", "short_name", "inn")
    inlines = [MembershipInline, SubscriptionInline]


@admin.register(User, site=staff_site)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Профиль"), {"fields": ("full_name", "language", "reminders_enabled")}),
        (_("Права"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
