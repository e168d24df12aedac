"""Tariffs and individual offers in the back-office admin.

Nothing here changes data without an audit record: a tariff is created and edited
through catalog.actions.save_tariff (archived on /staff/tariffs/ with archive_tariff);
offers are read-only here and made or withdrawn on the organization's overview page
(catalog.actions.make_offer / withdraw_offer). Neither is ever deleted.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from podpiska.catalog.actions import save_tariff
from podpiska.catalog.forms import TariffForm
from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.core.admin import ReadOnlyAdmin


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    form = TariffForm
    list_display = ("code", "name", "rank", "price", "export_limit", "limit_reset", "field_set", "is_free", "is_archived", "successor")
    list_filter = ("is_archived", "is_free", "field_set")
    search_fields = ("code", "name")
    readonly_fields = ("is_free", "is_archived", "successor")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # TariffForm.clean has run the same check_tariff_terms; save_tariff re-reads the
        # saved row for the audit's «before», and saves obj itself when creating.
        save_tariff(obj, staff_user=request.user, data=form.terms())


@admin.register(IndividualOffer)
class IndividualOfferAdmin(ReadOnlyAdmin):
    list_display = ("organization_link", "kind", "tariff_name", "addon_exports", "price", "valid_until", "status")
    list_filter = ("kind", "status")
    search_fields = ("organization__name", "organization__inn")
    list_select_related = ("organization",)

    @admin.display(description=_("организация"))
    def organization_link(self, obj):
        url = reverse("staff:organization_overview", args=[obj.organization_id]) + "#offers"
        return format_html('<a href="{}">{}</a>', url, obj.organization)
