"""Billing in the back-office: read-only records; changes go through billing.actions.

Payments are confirmed on /staff/payments/confirm/ and matched on /staff/payments/queue/
(views that call record_payment / apply_payment), never by editing rows here.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from podpiska.billing.models import (
    Invoice,
    OnlinePayment,
    Order,
    OrderStatus,
    Payment,
    StatementImport,
)
from podpiska.billing.statements.importer import COUNTS
from podpiska.core.admin import ReadOnlyAdmin
from podpiska.core.money import format_rub


def _organization_link(obj):
    if not obj.organization_id:
        return "—"
    return format_html(
        '<a href="{}">{}</a>',
        reverse("staff:organization_overview", args=[obj.organization_id]),
        obj.organization,
    )


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("pk", "created_at", "organization_link", "kind", "tariff_name", "amount", "payment_method", "status", "pay_by")
    list_filter = ("status", "kind", "payment_method")
    search_fields = ("organization__name", "organization__inn", "tariff_name", "idempotency_key")
    list_select_related = ("organization",)
    date_hierarchy = "created_at"
    actions = ["cancel"]

    @admin.display(description=_("организация"))
    def organization_link(self, obj):
        return _organization_link(obj)

    @admin.display(description=_("сумма"), ordering="price")
    def amount(self, obj):
        return format_rub(obj.price)

    def has_change_permission(self, request, obj=None):
        # The «cancel» action needs it; the form itself stays read-only.
        return obj is None and request.user.has_perm("billing.change_order")

    @admin.action(description=_("Отменить выбранные неоплаченные заказы"), permissions=["change"])
    def cancel(self, request, queryset):
        from podpiska.billing.actions import CANCELLED_BY_STAFF, OrderRefused, cancel_order

        cancelled = 0
        for order in queryset.filter(status=OrderStatus.AWAITING_PAYMENT):
            try:
                cancel_order(order, actor=request.user, reason=CANCELLED_BY_STAFF)
                cancelled += 1
            except OrderRefused as error:
                messages.error(request, f"{order}: {error}")
        messages.success(request, _("Отменено заказов: %(n)s.") % {"n": cancelled})


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("display_number", "issued_on", "organization_link", "amount", "pay_by", "order_status", "annulled", "page")
    list_filter = ("year", "order__status", ("annulled_at", admin.EmptyFieldListFilter))
    search_fields = ("number", "organization__name", "organization__inn")
    list_select_related = ("organization", "order")

    @admin.display(description=_("организация"))
    def organization_link(self, obj):
        return _organization_link(obj)

    @admin.display(description=_("сумма"), ordering="total")
    def amount(self, obj):
        return format_rub(obj.total)

    @admin.display(description=_("заказ"))
    def order_status(self, obj):
        return obj.order.get_status_display()

    @admin.display(description=_("аннулирован"))
    def annulled(self, obj):
        if obj.annulled_at is None:
            return "—"
        return format_html(
            '<strong class="badge annulled">{}</strong> {}',
            _("аннулирован"), obj.annulment_reason,
        )

    @admin.display(description=_("счёт"))
    def page(self, obj):
        return format_html(
            '<a href="{}">HTML</a> · <a href="{}">PDF</a>',
            reverse("billing:invoice", args=[obj.pk]),
            reverse("billing:invoice_pdf", args=[obj.pk]),
        )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "amount_display", "source", "state", "queue_reason", "organization_link", "order", "doc_number", "payer_inn")
    list_filter = ("state", "source", "queue_reason")
    search_fields = ("payer_name", "payer_inn", "purpose", "doc_number", "organization__name")
    list_select_related = ("organization", "order")
    date_hierarchy = "received_at"

    @admin.display(description=_("сумма"), ordering="amount")
    def amount_display(self, obj):
        return format_rub(obj.amount)

    @admin.display(description=_("организация"))
    def organization_link(self, obj):
        return _organization_link(obj)


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "file_name", "uploaded_by", "summary")
    search_fields = ("file_name", "sha256")

    @admin.display(description=_("итог"))
    def summary(self, obj):
        """The import report as the upload page words it."""
        report = obj.report or {}
        return _(
            "документов %(documents)s, входящих %(incoming)s, зачтено %(matched)s, "
            "в очередь %(queued)s, повторов %(duplicates)s, пропущено %(skipped)s"
        ) % {name: report.get(name, 0) for name in COUNTS}


@admin.register(OnlinePayment)
class OnlinePaymentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "order", "provider", "external_id", "status", "amount")
    list_filter = ("provider", "status")
    search_fields = ("external_id", "idempotence_key")
