"""Back-office for the host-product integration: API keys and outgoing webhooks."""

import secrets

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from podpiska.api.keys import issue_key, revoke_key
from podpiska.api.models import ApiKey
from podpiska.core import clock
from podpiska.core.admin import ReadOnlyAdmin
from podpiska.notifications.events import EVENTS
from podpiska.notifications.models import WebhookDelivery, WebhookEndpoint
from podpiska.notifications.webhooks import resend
from podpiska.subscriptions.models import ExportRecord, QuotaPeriod


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """«Add» issues a key through `issue_key` and shows the raw key once, on that page."""

    list_display = ("name", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    filter_horizontal = ("organizations",)
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "organizations")
        return ("name", "prefix", "organizations", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("prefix", "created_at", "last_used_at", "revoked_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("organizations")

    @admin.display(description=_("организации"))
    def scope(self, obj):
        names = [o.short_name or o.name for o in obj.organizations.all()][:3]
        return ", ".join(names) if names else _("все")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, raw = issue_key(
            form.cleaned_data["name"], form.cleaned_data["organizations"], actor=request.user
        )
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = key.pk, key.prefix, key.key_hash, key.created_at
        request._issued_raw_key = raw

    def save_related(self, request, form, formsets, change):
        if change:  # on add, issue_key already set the scope
            super().save_related(request, form, formsets, change)

    def response_add(self, request, obj, post_url_continue=None):
        response = TemplateResponse(
            request,
            "api/admin/key_issued.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Ключ выпущен"),
                "key": obj,
                "raw_key": request._issued_raw_key,
                "opts": self.opts,
            },
        )
        # The raw key exists only in this response: never cache it anywhere.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Отозвать выбранные ключи"), permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            revoke_key(key, actor=request.user)
        messages.success(request, _("Ключи отозваны: запросы с ними получают 401."))

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's history stays in the audit log


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("события"),
        choices=[(e, e) for e in EVENTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ничего не выбрано — все события."),
    )
    secret = forms.CharField(
        label=_("секрет подписи"),
        required=False,
        max_length=100,
        help_text=_("Пусто — будет создан случайный. Сообщите его получателю для проверки подписи."),
    )

    url = forms.URLField(label=_("адрес"), assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "events", "secret", "is_active")

    def clean_secret(self):
        return self.cleaned_data["secret"].strip() or "whsec_" + secrets.token_urlsafe(24)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "is_active", "event_list", "created_at")
    list_filter = ("is_active",)

    @admin.display(description=_("события"))
    def event_list(self, obj):
        return ", ".join(obj.events) if obj.events else _("все")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_at = clock.now()
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every event sent to the host product, its attempts and errors."""

    list_display = (
        "created_at", "event", "endpoint", "status", "attempts", "last_status_code",
        "next_attempt_at", "delivered_at",
    )
    list_filter = ("status", "event", "endpoint")
    search_fields = ("event_id", "event")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    date_hierarchy = "created_at"
    actions = ["resend_selected"]

    @admin.action(description=_("Отправить повторно"), permissions=["change"])
    def resend_selected(self, request, queryset):
        for delivery in queryset:
            resend(delivery, actor=request.user)
        messages.success(request, _("Доставки поставлены в очередь: уйдут при следующем запуске обработчика."))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    """Every use of a limit through the API: who, when, how many rows, what was answered."""

    list_display = (
        "created_at", "organization", "rows", "refunded_rows", "field_set", "accepted",
        "response_status", "actor_label",
    )
    list_filter = ("accepted", "response_status", "field_set")
    search_fields = ("organization__name", "organization__inn", "idempotency_key", "actor_label")
    list_select_related = ("organization",)
    date_hierarchy = "created_at"


@admin.register(QuotaPeriod)
class QuotaPeriodAdmin(ReadOnlyAdmin):
    list_display = ("organization", "starts_at", "ends_at", "limit", "used", "field_set")
    search_fields = ("organization__name", "organization__inn")
    list_select_related = ("organization",)
