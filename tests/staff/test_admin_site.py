"""The back-office is Django's default admin site: app admins register with plain
`@admin.register` and the staff pages keep their "staff:" names."""

from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from podpiska.accounts.models import Organization
from podpiska.audit.models import AuditRecord
from podpiska.billing.models import Invoice
from podpiska.staff.site import StaffSite, staff_site
from tests.factories import make_subscription, make_user


def test_the_default_admin_site_is_the_back_office():
    assert isinstance(admin.site, StaffSite)
    assert staff_site is admin.site and admin.site.name == "staff"
    assert reverse("staff:index") == "/staff/"


def test_it_holds_the_projects_records_only():
    assert admin.site.is_registered(Organization) and admin.site.is_registered(Invoice)
    assert not admin.site.is_registered(Group) and not admin.site.is_registered(DBTaskResult)


def test_documents_and_the_audit_log_are_read_only(rf, db):
    request = rf.get("/staff/")
    request.user = make_user(is_staff=True, is_superuser=True)
    for model in (Invoice, AuditRecord):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


def test_the_organization_page_shows_members_and_the_timeline(client, org, tariffs, clock):
    make_subscription(org, tariffs["200"], clock.now())
    client.force_login(make_user(is_staff=True, is_superuser=True))
    response = client.get(reverse("staff:accounts_organization_change", args=[org.pk]))
    assert response.status_code == 200
    inlines = {type(formset.opts).__name__ for formset in response.context["inline_admin_formsets"]}
    assert {"MembershipInline", "SubscriptionInline"} <= inlines
    assert "Компас 200" in response.content.decode()
