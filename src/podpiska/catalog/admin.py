from django.contrib import admin

from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.staff.site import staff_site


@admin.register(Tariff, site=staff_site)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "rank", "price", "export_limit", "limit_reset", "field_set", "is_free", "is_archived", "successor")
    list_filter = ("is_archived", "is_free", "field_set")
    search_fields = ("code", "name")


@admin.register(IndividualOffer, site=staff_site)
class IndividualOfferAdmin(admin.ModelAdmin):
    list_display = ("organization", "kind", "tariff_name", "addon_exports", "price", "valid_until", "status")
    list_filter = ("kind", "status")
    search_fields = ("organization__name", "organization__inn")
    autocomplete_fields = ("organization",)
