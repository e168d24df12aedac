from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from podpiska.accounts.actions import RequisitesInvalid, clean_requisites
from podpiska.accounts.models import Membership, Organization, User
from podpiska.audit.admin_changes import AuditedAdminMixin, audited_password_change


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


class OrganizationForm(forms.ModelForm):
    """Requisites judged by the same `clean_requisites` as the owner's settings page."""

    class Meta:
        model = Organization
        fields = ("name", "short_name", "inn", "kpp", "ogrn", "legal_address", "email", "timezone")

    def clean(self):
        data = super().clean()
        requisites = {**data, "address": data.get("legal_address")}
        try:
            clean = clean_requisites(requisites, organization=self.instance)
        except RequisitesInvalid as error:
            for field, message in error.errors.items():
                field = "legal_address" if field == "address" else field
                self.add_error(field if field in self.fields else None, message)
            return data
        data.update({k: v for k, v in clean.items() if k != "address"}, legal_address=clean["address"])
        return data


@admin.register(Organization)
class OrganizationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = OrganizationForm
    list_display = ("short_name", "inn", "kpp", "ogrn", "timezone")
    search_fields = ("name", "short_name", "inn")
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return False  # an organization registers itself, with its requisites checked

    def has_delete_permission(self, request, obj=None):
        return False  # its invoices are legal records: an organization is never deleted


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Профиль"), {"fields": ("full_name", "language", "reminders_enabled")}),
        (_("Права"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    user_change_password = audited_password_change(DjangoUserAdmin.user_change_password)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit log and orders keep pointing at the user
