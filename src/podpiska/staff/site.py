from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.urls import path
from django.utils.translation import gettext_lazy as _

from podpiska.accounts.throttle import ThrottledLoginMixin


class StaffLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login, throttled like the customers' (accounts.throttle)."""


class StaffSite(AdminSite):
    """The back-office at /staff/: active staff users only (the admin's own check).

    The index is the dashboard; the reconciliation pages (payments, statements, the
    organization overview, offers, tariffs, the test clock) are views of this site, so
    they share its login, its look and its staff-only guard.
    """

    site_header = _("Подписка — бэк-офис")
    site_title = _("Бэк-офис")
    index_title = _("Сводка")
    index_template = "staff/index.html"
    login_form = StaffLoginForm

    def __init__(self, name="staff"):
        # Built by Django as the default admin site (staff.apps.StaffAdminConfig); the
        # name keeps the "staff:" URL names.
        super().__init__(name)

    def index(self, request, extra_context=None):
        from podpiska.staff.views import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})

    def password_change(self, request, extra_context=None):
        """A staff user's own new password, audited (without the hash) with the change."""
        from django.db import transaction

        from podpiska.audit.log import record

        with transaction.atomic():
            response = super().password_change(request, extra_context)
            if request.method == "POST" and response.status_code == 302:
                record("accounts.user_password_changed", request.user, actor=request.user,
                       after={"password": "***"})
        return response

    def get_urls(self):
        from podpiska.staff import views

        custom = [
            path("dashboard/", self.admin_view(self.index), name="dashboard"),
            path("organizations/<int:organization_id>/overview/", self.admin_view(views.organization_overview),
                 name="organization_overview"),
            path("organizations/<int:organization_id>/offers/new/", self.admin_view(views.offer_create),
                 name="offer_create"),
            path("offers/<int:offer_id>/withdraw/", self.admin_view(views.offer_withdraw), name="offer_withdraw"),
            path("payments/confirm/", self.admin_view(views.manual_payment), name="manual_payment"),
            path("payments/queue/", self.admin_view(views.payment_queue), name="payment_queue"),
            path("payments/<int:payment_id>/match/", self.admin_view(views.payment_match), name="payment_match"),
            path("payments/<int:payment_id>/reject/", self.admin_view(views.payment_reject), name="payment_reject"),
            path("statements/upload/", self.admin_view(views.statement_upload), name="statement_upload"),
            path("statements/demo.txt", self.admin_view(views.demo_statement), name="demo_statement"),
            path("limit-requests/<int:request_id>/answer/", self.admin_view(views.limit_request_answer),
                 name="limit_request_answer"),
            path("tariffs/", self.admin_view(views.tariffs), name="tariffs"),
            path("tariffs/new/", self.admin_view(views.tariff_edit), name="tariff_create"),
            path("tariffs/<int:tariff_id>/edit/", self.admin_view(views.tariff_edit), name="tariff_edit"),
            path("tariffs/<int:tariff_id>/archive/", self.admin_view(views.tariff_archive), name="tariff_archive"),
            path("closing-documents/", self.admin_view(views.closing_documents), name="closing_documents"),
            path("closing-documents/export.<str:kind>", self.admin_view(views.closing_documents_export),
                 name="closing_documents_export"),
            path("closing-documents/<int:document_id>/annul/", self.admin_view(views.closing_document_annul),
                 name="closing_document_annul"),
            path("clock/", self.admin_view(views.clock_view), name="clock"),
        ]
        return custom + super().get_urls()


staff_site = admin.site
