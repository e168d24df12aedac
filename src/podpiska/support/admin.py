"""Support and limit-increase requests in the back-office.

A support request's status and answer are saved through support.actions
(answer_support_request, audited); a limit request is answered with an add-on offer on
its own page (support.actions.answer_limit_request_with_offer).
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from podpiska.core.admin import ReadOnlyAdmin
from podpiska.support.actions import RequestRefused, answer_support_request
from podpiska.support.models import LimitIncreaseRequest, RequestStatus, SupportRequest


def _organization_link(obj):
    if not obj.organization_id:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse("staff:organization_overview", args=[obj.organization_id]), obj.organization
    )


class SupportAnswerForm(forms.ModelForm):
    class Meta:
        model = SupportRequest
        fields = ("status", "answer")

    def clean(self):
        data = super().clean()
        if data.get("status") == RequestStatus.ANSWERED and not (data.get("answer") or "").strip():
            self.add_error("answer", _("Чтобы отметить обращение отвеченным, напишите ответ."))
        return data


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    form = SupportAnswerForm
    list_display = ("created_at", "subject", "organization_link", "user", "status", "answered_at")
    list_filter = ("status",)
    search_fields = ("subject", "message", "organization__name", "organization__inn", "user__email", "contact")
    list_select_related = ("organization", "user")
    readonly_fields = ("organization_link", "user", "contact", "subject", "message", "created_at", "answered_at")
    fields = ("organization_link", "user", "contact", "created_at", "subject", "message", "status", "answer", "answered_at")

    @admin.display(description=_("организация"))
    def organization_link(self, obj):
        return _organization_link(obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            answer_support_request(
                obj, staff_user=request.user, status=form.cleaned_data["status"], answer=form.cleaned_data["answer"]
            )
        except RequestRefused as error:
            messages.error(request, str(error))


@admin.register(LimitIncreaseRequest)
class LimitIncreaseRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization_link", "extra_exports", "status", "answer_link")
    list_filter = ("status",)
    search_fields = ("organization__name", "organization__inn", "comment")
    list_select_related = ("organization",)
    readonly_fields = [f.name for f in LimitIncreaseRequest._meta.fields]

    @admin.display(description=_("организация"))
    def organization_link(self, obj):
        return _organization_link(obj)

    @admin.display(description=_("ответ"))
    def answer_link(self, obj):
        if obj.status in (RequestStatus.OPEN, RequestStatus.IN_PROGRESS):
            return format_html(
                '<a href="{}">{}</a>', reverse("staff:limit_request_answer", args=[obj.pk]), _("Ответить предложением")
            )
        return obj.answer
