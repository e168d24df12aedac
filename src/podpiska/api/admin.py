"""Back-office for the host-product integration: API keys and outgoing webhooks."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from podpiska.api.keys import change_key, issue_key, revoke_key
from podpiska.api.models import ApiKey
from podpiska.core.admin import ReadOnlyAdmin
from podpiska.notifications.endpoints import create_endpoint, rotate_secret, update_endpoint
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
            return  # saved with its scope in save_related, by change_key
        key, raw = issue_key(
            form.cleaned_data["name"], form.cleaned_data["organizations"], actor=request.user
        )
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = key.pk, key.prefix, key.key_hash, key.created_at
        request._issued_raw_key = raw

    def save_related(self, request, form, formsets, change):
        if change:  # on add, issue_key already set the scope
            change_key(form.instance, name=form.cleaned_data["name"],
                       organizations=form.cleaned_data["organizations"], actor=request.user)

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
    """Where and what to send. No secret here: it is made by `create_endpoint` and
    shown once, like an API key."""

    events = forms.MultipleChoiceField(
        label=_("события"),
        choices=[(e, e) for e in EVENTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ничего не выбрано — все события."),
    )
    url = forms.URLField(label=_("адрес"), assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "events", "is_active")


def _secret_shown_once(request, admin, endpoints_with_secrets, title):
    response = TemplateResponse(
        request,
        "api/admin/webhook_secret.html",
        {
            **admin.admin_site.each_context(request),
            "title": title,
            "items": endpoints_with_secrets,
            "opts": admin.opts,
        },
    )
    # The secret exists in clear only in this response: never cache it anywhere.
    response["Cache-Control"] = "no-store"
    return response


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Added and changed through notifications.endpoints (audited); the signing secret
    is shown once, on the page after «add» or «rotate», and never again."""

    form = WebhookEndpointForm
    list_display = ("url", "is_active", "event_list", "created_at")
    list_filter = ("is_active",)
    readonly_fields = ("secret_state", "created_at")
    actions = ["rotate"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("url", "events", "is_active")
        return ("url", "events", "is_active", "secret_state", "created_at")

    @admin.display(description=_("события"))
    def event_list(self, obj):
        return ", ".join(obj.events) if obj.events else _("все")

    @admin.display(description=_("секрет подписи"))
    def secret_state(self, obj):
        return _("задан; показывается один раз — при создании и при смене секрета")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            update_endpoint(obj, url=data["url"], events=data["events"],
                            is_active=data["is_active"], actor=request.user)
            return
        endpoint, secret = create_endpoint(
            url=data["url"], events=data["events"], is_active=data["is_active"], actor=request.user
        )
        obj.pk, obj.secret, obj.created_at = endpoint.pk, endpoint.secret, endpoint.created_at
        request._webhook_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        return _secret_shown_once(request, self, [(obj, request._webhook_secret)],
                                  _("Адрес вебхуков добавлен"))

    @admin.action(description=_("Сменить секрет подписи"), permissions=["change"])
    def rotate(self, request, queryset):
        rotated = [rotate_secret(endpoint, actor=request.user) for endpoint in queryset]
        return _secret_shown_once(request, self, rotated, _("Секрет подписи сменён"))

    def has_delete_permission(self, request, obj=None):
        return False  # switch off instead: the delivery log keeps pointing at it


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: every event sent to the host product, its attempts and errors."""

    list_display = (
        "created_at", "event", "endpoint", "status", "attempts", "last_status_code",
        "next_attempt_at", "delivered_at",
    )
    list_filter = ("status", "event", "endpoint")
    search_fields = ("event_id", "event")
    # In the order a delivery reads (the outbox fields come first in the model's own order).
    readonly_fields = ["id", "endpoint", "event", "event_id", "payload", "status", "attempts",
                       "next_attempt_at", "last_status_code", "last_error", "created_at", "delivered_at"]
    date_hierarchy = "created_at"
    actions = ["resend_selected"]

    @admin.action(description=_("Отправить повторно"), permissions=["change"])
    def resend_selected(self, request, queryset):
        for delivery in queryset:
            resend(delivery, actor=request.user)
        messages.success(request, _("Доставки поставлены в очередь: уйдут при следующем запуске обработчика."))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's action needs it; the row itself is never edited here.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportRecord)
class ExportRecordAdmin(ReadOnlyAdmin):
    """Every use of a limit through the API: who, when, how many rows, what was answered."""

    list_display = (
        "created_at", "organization", "rows", "refunded_rows", "field_set", "accepted",
        "outcome", "actor_label",
    )
    list_filter = ("accepted", "outcome", "field_set")
    search_fields = ("organization__name", "organization__inn", "idempotency_key", "actor_label")
    list_select_related = ("organization",)
    date_hierarchy = "created_at"


@admin.register(QuotaPeriod)
class QuotaPeriodAdmin(ReadOnlyAdmin):
    list_display = ("organization", "starts_at", "ends_at", "limit", "used", "field_set")
    search_fields = ("organization__name", "organization__inn")
    list_select_related = ("organization",)
