"""Every way staff change data in /staff/ leaves an audit record.

The walk covers every admin add and change view, every admin list action and every
back-office page that accepts a POST. Guards make the walk complete: an admin, action or
page added later without a case here fails the first tests, so nothing new can change
data unaudited. The admin forms are posted as the browser would, from the page's own
form with one field changed.
"""

from datetime import timedelta

import pytest
from django.contrib.admin import AdminSite
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import BooleanField, MultiWidget
from django.test import Client, RequestFactory

from podpiska.api.keys import issue_key
from podpiska.api.models import ApiKey
from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import place_order, record_payment
from podpiska.catalog.actions import make_offer
from podpiska.notifications.endpoints import create_endpoint
from podpiska.notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from podpiska.notifications.webhooks import enqueue
from podpiska.staff.site import StaffSite, staff_site
from podpiska.support.models import LimitIncreaseRequest, SupportRequest
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

# Custom back-office pages that only show data (a POST to them changes nothing).
READ_ONLY_PAGES = {"dashboard", "organization_overview", "payment_queue", "tariffs", "demo_statement",
                   "closing_documents", "closing_documents_export"}


@pytest.fixture
def world(clock, tariffs):
    """One of everything staff can change."""
    owner = factories.make_user("owner@example.com")
    org = factories.make_org(user=owner)
    factories.make_subscription(org, tariffs["200"], NOW - timedelta(days=355))
    renewal = place_order(organization=org, user=owner, kind="renew", payment_method="invoice",
                          idempotency_key="renew-1", tariff=tariffs["200"])
    staff = factories.make_user("root@podpiska.local", is_staff=True, is_superuser=True)
    key, _raw = issue_key("Справочник", [org], actor=staff)
    endpoint, _secret = create_endpoint(url="https://host.example/hooks", events=[], actor=staff)
    [delivery] = enqueue("order.paid", organization=org, data={"order_id": renewal.pk})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=10, next_attempt_at=None)
    message = EmailMessage.objects.create(to=["owner@example.com"], subject="Счёт", body_text="…",
                                          status="failed", attempts=5, created_at=NOW)
    offer = make_offer(organization=org, staff_user=staff, price=10_000_00,
                       addon_exports=1000, valid_until=NOW.date() + timedelta(days=14))
    queued, _ = record_payment(source="statement", amount=renewal.price, received_at=NOW,
                               dedup_key="bank-1", payer_name="ООО Кто-то")
    stranger, _ = record_payment(source="statement", amount=7_000_00, received_at=NOW,
                                 dedup_key="bank-2", payer_name="ООО Чужие")
    client = Client()
    client.force_login(staff)
    return {
        "client": client, "staff": staff, "owner": owner, "org": org, "renewal": renewal,
        "tariffs": tariffs, "key": key, "endpoint": endpoint, "delivery": delivery,
        "message": message, "offer": offer, "queued": queued, "stranger": stranger,
        "support_request": SupportRequest.objects.create(
            organization=org, subject="Счёт", message="Где счёт?", created_at=NOW),
        "limit_request": LimitIncreaseRequest.objects.create(
            organization=org, user=owner, extra_exports=5000, created_at=NOW),
    }


# --- the admin's own forms -----------------------------------------------------------


def page_form_data(response) -> dict:
    """What the browser would send back from an admin add/change page, untouched."""
    forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context.get("inline_admin_formsets", []):
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms.extend(inline.formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            bound, widget = form[name], field.widget
            value = bound.value()
            if isinstance(widget, MultiWidget):
                parts = value if isinstance(value, list | tuple) else widget.decompress(value)
                for i, (sub, part) in enumerate(zip(widget.widgets, parts, strict=False)):
                    data[f"{bound.html_name}_{i}"] = sub.format_value(part) or ""
            elif isinstance(field, BooleanField):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            elif value is not None:
                data[bound.html_name] = widget.format_value(value) or ""
    return data


def _membership_role_field(data):
    [name] = [k for k in data if k.startswith("memberships-") and k.endswith("-role")]
    return name


ADMIN_CASES = {
    # (model, "add" | "change"): (object, changes to the page's form, the audit action)
    ("catalog.tariff", "add"): (
        lambda w: None,
        lambda w, d: {"code": "1000", "name": "Компас 1000", "rank": "90", "price": "500 000",
                      "term_months": "12", "export_limit": "50000", "limit_reset": "term",
                      "field_set": "basic"},
        "catalog.tariff_created"),
    ("catalog.tariff", "change"): (
        lambda w: w["tariffs"]["200"], lambda w, d: {"name": "Компас 200+"},
        "catalog.tariff_changed"),
    ("accounts.user", "add"): (
        lambda w: None,
        lambda w, d: {"email": "new@podpiska.local", "password1": "Dlinnyi-parol-42",
                      "password2": "Dlinnyi-parol-42", "usable_password": "true"},
        "accounts.user_created"),
    ("accounts.user", "change"): (
        lambda w: w["owner"], lambda w, d: {"is_staff": "on"}, "accounts.user_changed"),
    ("accounts.organization", "change"): (
        lambda w: w["org"],
        lambda w, d: {"short_name": "ООО «Новое имя»", _membership_role_field(d): "member"},
        "accounts.organization_changed"),
    ("api.apikey", "add"): (
        lambda w: None, lambda w, d: {"name": "Ещё ключ"}, "api_key.issued"),
    ("api.apikey", "change"): (
        # Widening the scope: from one organization to every organization.
        lambda w: w["key"], lambda w, d: {"organizations": []}, "api_key.changed"),
    ("notifications.webhookendpoint", "add"): (
        lambda w: None, lambda w, d: {"url": "https://other.example/hooks", "is_active": "on"},
        "notifications.webhook_endpoint_created"),
    ("notifications.webhookendpoint", "change"): (
        lambda w: w["endpoint"], lambda w, d: {"url": "https://host.example/new-hooks"},
        "notifications.webhook_endpoint_changed"),
    ("support.supportrequest", "change"): (
        lambda w: w["support_request"],
        lambda w, d: {"status": "answered", "answer": "Счёт в настройках."},
        "support.request_answered"),
}

ACTION_CASES = {
    # (model, action): (the objects, the audit action)
    ("api.apikey", "revoke"): (lambda w: [w["key"]], "api_key.revoked"),
    ("notifications.webhookendpoint", "rotate"): (
        lambda w: [w["endpoint"]], "notifications.webhook_secret_rotated"),
    ("notifications.webhookdelivery", "resend_selected"): (
        lambda w: [w["delivery"]], "notifications.webhook_resend"),
    ("notifications.emailmessage", "retry"): (lambda w: [w["message"]], "notifications.email_retry"),
    ("billing.order", "cancel"): (lambda w: [w["renewal"]], "order.cancelled"),
}


def _statement(w):
    from django.conf import settings

    from podpiska.billing.statements.generator import generate_incoming_payment, generate_statement

    seller, order = settings.PODPISKA_SELLER, w["renewal"]
    document = generate_incoming_payment(
        number="101", day=NOW.date(), amount=order.price, payer_name=order.requisites["name"],
        payer_inn=order.requisites["inn"], payee_account=seller["account"], payee_bik=seller["bik"],
        purpose=f"Оплата по счёту № {order.invoice.display_number}",
    )
    data = generate_statement([document], account=seller["account"], bank_bik=seller["bik"],
                              date_from=NOW.date(), date_to=NOW.date())
    return {"file": SimpleUploadedFile("kl_to_1c.txt", data)}


def _closing_document(w):
    """The УПД of the renewal, paid by hand."""
    from podpiska.billing.actions import confirm_manual_payment
    from podpiska.billing.models import ClosingDocument

    renewal = w["renewal"]
    confirm_manual_payment(order=renewal, amount=renewal.price, doc_number="77",
                           doc_date=NOW.date(), actor=w["staff"])
    return ClosingDocument.objects.get(order=renewal)


PAGE_CASES = {
    # url name: (arguments, what is posted, the audit action)
    "closing_document_annul": (
        lambda w: [_closing_document(w).pk], lambda w: {"reason": "Возврат по письму покупателя"},
        "closing_document.annulled"),
    "offer_create": (
        lambda w: [w["org"].pk],
        lambda w: {"kind": "tariff", "tariff": w["tariffs"]["400"].pk, "price": "250 000",
                   "valid_until": "2026-12-15"},
        "catalog.offer_created"),
    "offer_withdraw": (lambda w: [w["offer"].pk], lambda w: {}, "catalog.offer_withdrawn"),
    "manual_payment": (
        lambda w: [],
        lambda w: {"reference": w["renewal"].invoice.display_number, "amount": "134 400,00",
                   "doc_date": "2026-11-27", "doc_number": "55"},
        "payment.recorded"),
    "payment_match": (
        lambda w: [w["queued"].pk],
        lambda w: {"reference": w["renewal"].invoice.display_number}, "payment.applied"),
    "payment_reject": (
        lambda w: [w["stranger"].pk], lambda w: {"note": "Ошиблись получателем"},
        "payment.rejected"),
    "statement_upload": (lambda w: [], _statement, "statement.imported"),
    "limit_request_answer": (
        lambda w: [w["limit_request"].pk],
        lambda w: {"extra_exports": "5000", "price": "40 000,00", "valid_until": "2026-12-31",
                   "answer": "Готовы добавить"},
        "support.limit_request_answered"),
    "tariff_create": (
        lambda w: [],
        lambda w: {"code": "1000", "name": "Компас 1000", "rank": "90", "price": "500 000",
                   "term_months": "12", "export_limit": "50000", "limit_reset": "term",
                   "field_set": "basic"},
        "catalog.tariff_created"),
    "tariff_edit": (
        lambda w: [w["tariffs"]["200"].pk],
        lambda w: {"code": "200", "name": "Компас 200", "rank": w["tariffs"]["200"].rank,
                   "price": "150 000,00", "term_months": "12", "export_limit": "12000",
                   "limit_reset": "term", "field_set": "basic"},
        "catalog.tariff_changed"),
    "tariff_archive": (
        lambda w: [w["tariffs"]["100"].pk], lambda w: {"successor": w["tariffs"]["200"].pk},
        "catalog.tariff_archived"),
    "clock": (lambda w: [], lambda w: {"days": "3"}, "core.clock_moved"),
}


def _superuser_request():
    request = RequestFactory().get("/staff/")
    request.user = factories.make_user("probe@podpiska.local", is_staff=True, is_superuser=True)
    return request


def test_no_admin_view_or_action_is_left_out_of_the_walk(db):
    request = _superuser_request()
    views, actions = set(), set()
    for model, model_admin in staff_site._registry.items():
        label = model._meta.label_lower
        if model_admin.has_add_permission(request):
            views.add((label, "add"))
        if model_admin.has_change_permission(request, model()):
            views.add((label, "change"))
        # Nothing in /staff/ deletes: documents and their history are kept.
        assert not model_admin.has_delete_permission(request, model()), label
        actions |= {(label, name) for name in model_admin.get_actions(request)}
    assert views == set(ADMIN_CASES)
    assert actions == set(ACTION_CASES)


def test_no_back_office_page_is_left_out_of_the_walk():
    def names(urls):
        return {url.name for url in urls if getattr(url, "name", None)}

    custom = names(StaffSite.get_urls(staff_site)) - names(AdminSite.get_urls(staff_site))
    assert custom == set(PAGE_CASES) | READ_ONLY_PAGES


@pytest.mark.parametrize("case", sorted(ADMIN_CASES), ids=lambda c: f"{c[0]}-{c[1]}")
def test_every_admin_form_writes_an_audit_record(world, case):
    from django.urls import reverse

    label, view = case
    make_object, changes, action = ADMIN_CASES[case]
    app_label, model_name = label.split(".")
    client, obj = world["client"], make_object(world)
    url = (reverse(f"staff:{app_label}_{model_name}_add") if view == "add"
           else reverse(f"staff:{app_label}_{model_name}_change", args=[obj.pk]))
    page = client.get(url)
    assert page.status_code == 200
    data = page_form_data(page)
    data.update(changes(world, data))
    before = AuditRecord.objects.count()
    response = client.post(url, data)
    if response.status_code == 200 and "adminform" in (response.context or {}):
        assert not response.context["adminform"].form.errors, response.context["adminform"].form.errors
    assert response.status_code in (200, 302)
    records = AuditRecord.objects.order_by("pk")[before:]
    assert action in {r.action for r in records}
    assert all(r.actor == world["staff"] for r in records)


def test_organization_form_audits_the_membership_it_changes(world):
    client, org = world["client"], world["org"]
    url = f"/staff/accounts/organization/{org.pk}/change/"
    data = page_form_data(client.get(url))
    data[_membership_role_field(data)] = "member"
    client.post(url, data)
    change = AuditRecord.objects.get(action="accounts.membership_changed")
    assert (change.before["role"], change.after["role"]) == ("owner", "member")
    assert change.organization == org


def test_a_password_change_is_audited_without_the_hash(world):
    client, user = world["client"], world["owner"]
    response = client.post(f"/staff/accounts/user/{user.pk}/password/", {
        "password1": "Novyi-parol-2026", "password2": "Novyi-parol-2026", "usable_password": "true",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Novyi-parol-2026")
    change = AuditRecord.objects.get(action="accounts.user_password_changed")
    assert change.after["password"] == "***" and user.password not in str(change.after)


def test_a_staff_users_own_password_change_is_audited(world):
    client, staff = world["client"], world["staff"]
    response = client.post("/staff/password_change/", {
        "old_password": "secret-pass", "new_password1": "Novyi-parol-2026",
        "new_password2": "Novyi-parol-2026",
    })
    assert response.status_code == 302
    change = AuditRecord.objects.get(action="accounts.user_password_changed")
    assert change.actor == staff and change.object_id == str(staff.pk)
    # A wrong old password changes and records nothing.
    client.force_login(staff)
    client.post("/staff/password_change/", {
        "old_password": "wrong", "new_password1": "Drugoi-parol-2026", "new_password2": "Drugoi-parol-2026",
    })
    assert AuditRecord.objects.filter(action="accounts.user_password_changed").count() == 1


@pytest.mark.parametrize("case", sorted(ACTION_CASES), ids=lambda c: f"{c[0]}-{c[1]}")
def test_every_admin_action_writes_an_audit_record(world, case):
    from django.urls import reverse

    label, name = case
    objects, action = ACTION_CASES[case]
    app_label, model_name = label.split(".")
    before = AuditRecord.objects.count()
    response = world["client"].post(reverse(f"staff:{app_label}_{model_name}_changelist"), {
        "action": name, ACTION_CHECKBOX_NAME: [obj.pk for obj in objects(world)],
    })
    assert response.status_code in (200, 302)
    records = AuditRecord.objects.order_by("pk")[before:]
    assert action in {r.action for r in records}
    assert all(r.actor == world["staff"] for r in records)


@pytest.mark.parametrize("name", sorted(PAGE_CASES))
def test_every_back_office_page_that_changes_data_writes_an_audit_record(world, name):
    from django.urls import reverse

    from podpiska.core import clock

    args, data, action = PAGE_CASES[name]
    before = AuditRecord.objects.count()
    try:
        response = world["client"].post(reverse(f"staff:{name}", args=args(world)), data(world))
    finally:
        if name == "clock":
            clock.freeze(NOW)
    assert response.status_code in (200, 302)
    records = AuditRecord.objects.order_by("pk")[before:]
    assert action in {r.action for r in records}
    assert any(r.actor == world["staff"] for r in records)


# --- what the audit log never holds ---------------------------------------------------


def test_webhook_secret_is_shown_once_and_never_again(world):
    client = world["client"]
    response = client.post("/staff/notifications/webhookendpoint/add/", {
        "url": "https://other.example/hooks", "is_active": "on",
    })
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get(url="https://other.example/hooks")
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret.encode() in response.content
    # Never again: not on its page, not in the list, not in the audit log.
    for url in [f"/staff/notifications/webhookendpoint/{endpoint.pk}/change/",
                "/staff/notifications/webhookendpoint/"]:
        page = client.get(url)
        assert page.status_code == 200 and endpoint.secret.encode() not in page.content
    assert endpoint.secret not in str(list(AuditRecord.objects.values_list("before", "after")))
    # Rotating shows the new one once; the old one no longer signs.
    old = endpoint.secret
    response = client.post("/staff/notifications/webhookendpoint/", {
        "action": "rotate", ACTION_CHECKBOX_NAME: [endpoint.pk],
    })
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.encode() in response.content
    assert "no-store" in response["Cache-Control"]


def test_support_and_billing_never_see_a_webhook_secret(world):
    from podpiska.accounts.staff_groups import setup_staff_groups

    groups = setup_staff_groups()
    endpoint = world["endpoint"]
    for name in ("support", "billing"):
        user = factories.make_user(f"{name}@podpiska.local", is_staff=True)
        user.groups.add(groups[name])
        client = Client()
        client.force_login(user)
        for url in [f"/staff/notifications/webhookendpoint/{endpoint.pk}/change/",
                    "/staff/notifications/webhookendpoint/"]:
            page = client.get(url)
            assert page.status_code == 200 and endpoint.secret.encode() not in page.content, (name, url)
        # Nor can they make one shown to them.
        response = client.post("/staff/notifications/webhookendpoint/", {
            "action": "rotate", ACTION_CHECKBOX_NAME: [endpoint.pk],
        })
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret
        assert endpoint.secret.encode() not in response.content


def test_widening_an_api_key_records_the_scope_before_and_after(world):
    client, key, org = world["client"], world["key"], world["org"]
    url = f"/staff/api/apikey/{key.pk}/change/"
    data = page_form_data(client.get(url))
    data["organizations"] = []
    client.post(url, data)
    change = AuditRecord.objects.get(action="api_key.changed")
    assert (change.before["organizations"], change.after["organizations"]) == ([org.pk], [])
    assert not ApiKey.objects.get(pk=key.pk).organizations.exists()
    # Saving the same again changes nothing and records nothing.
    client.post(url, page_form_data(client.get(url)))
    assert AuditRecord.objects.filter(action="api_key.changed").count() == 1



def test_organization_form_checks_requisites_like_the_owner_page(world):
    client, org = world["client"], world["org"]
    other = factories.make_org()
    url = f"/staff/accounts/organization/{org.pk}/change/"
    for field, value, message in [
        ("inn", "1234567890", "ИНН"),
        ("inn", other.inn, "Организация с таким ИНН уже зарегистрирована"),
        ("short_name", "   ", "Краткое наименование"),
    ]:
        data = page_form_data(client.get(url))
        data[field] = value
        before = AuditRecord.objects.count()
        response = client.post(url, data)
        assert response.status_code == 200 and message in response.content.decode(), field
        assert AuditRecord.objects.count() == before
    stored = type(org).objects.get(pk=org.pk)
    assert (stored.inn, stored.short_name) == (org.inn, org.short_name)
