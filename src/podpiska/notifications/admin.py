from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from podpiska.notifications.email import retry_now
from podpiska.notifications.models import EmailMessage, ReminderSent


@admin.register(EmailMessage)
class EmailMessageAdmin(admin.ModelAdmin):
    """The outbox: what was sent, what waits, what failed and why."""

    list_display = ("created_at", "recipients", "title", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status",)
    search_fields = ("subject", "to")
    # In the order a letter reads (the outbox fields come first in the model's own order).
    readonly_fields = ["id", "to", "subject", "body_text", "body_html", "template", "context",
                       "status", "attempts", "last_error", "next_attempt_at", "created_at", "sent_at"]
    actions = ["retry"]
    date_hierarchy = "created_at"

    @admin.display(description=_("кому"))
    def recipients(self, obj):
        return ", ".join(obj.to)

    @admin.display(description=_("тема"), ordering="subject")
    def title(self, obj):
        # Notices are written by the worker when it sends them: until then, the template.
        return obj.subject or _("«%(template)s», будет составлено при отправке") % {
            "template": obj.template
        }

    @admin.action(description=_("Отправить повторно сейчас"), permissions=["change"])
    def retry(self, request, queryset):
        for message in queryset.exclude(status=EmailMessage.Status.SENT):
            retry_now(message, actor=request.user)
        messages.success(request, _("Письма поставлены в очередь."))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's action needs it; the row itself is never edited here.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReminderSent)
class ReminderSentAdmin(admin.ModelAdmin):
    list_display = ("sent_at", "organization", "kind", "subject_key", "offset_days")
    list_filter = ("kind", "offset_days")
    search_fields = ("organization__name", "organization__inn")
    readonly_fields = [f.name for f in ReminderSent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the row is what stops a reminder from going out twice
