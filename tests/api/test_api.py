"""The host-product API over HTTP (Django's test client, real database)."""

import json
from datetime import timedelta

import pytest
from django.db import connection

from podpiska.api.keys import issue_key, revoke_key
from podpiska.catalog.models import BASIC_FIELDS, EXTENDED_ONLY_FIELDS
from podpiska.core import limits
from podpiska.subscriptions.models import ExportRecord, QuotaPeriod
from tests import factories
from tests.api.conftest import ApiClient
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def exports_url(org):
    return f"/api/v1/organizations/{org.pk}/exports"


def consume(api, org, rows=10, field_set="basic", idem="k-1", **kw):
    return api.post(exports_url(org), {"rows": rows, "field_set": field_set}, **{"Idempotency-Key": idem}, **kw)


def used(org) -> int:
    return sum(QuotaPeriod.objects.filter(organization=org).values_list("used", flat=True))


@pytest.fixture
def paid_org(tariffs, org):
    # Компас 200 from 01.06.2026 to 01.06.2027: 10 000 rows a term, basic fields.
    factories.make_subscription(org, tariffs["200"], NOW.replace(month=6, day=1, hour=0), used=9_990)
    return org


def test_entitlements_of_a_paid_organization(api, paid_org):
    response = api.get(f"/api/v1/organizations/{paid_org.pk}/entitlements")
    assert response.status_code == 200
    body = response.json()
    assert body["organization_id"] == paid_org.pk and body["inn"] == paid_org.inn
    assert body["tariff"] == {"code": "200", "name": "Компас 200"}
    assert body["paid"] is True
    assert body["field_set"] == "basic" and body["fields"] == list(BASIC_FIELDS)
    assert (body["limit"], body["used"], body["remaining"]) == (10_000, 9_990, 10)
    assert body["period_starts_at"] == "2026-06-01T00:00:00+03:00"
    assert body["period_ends_at"] == "2027-06-01T00:00:00+03:00"
    assert body["warning"] == {"state": "none", "last_day": None, "pay_by_bank_transfer": None}
    same = api.get(f"/api/v1/organizations/by-inn/{paid_org.inn}/entitlements")
    assert same.status_code == 200 and same.json() == body


def test_entitlements_of_a_free_organization_with_warning_fields(api, tariffs, org, clock):
    body = api.get(f"/api/v1/organizations/{org.pk}/entitlements").json()
    assert body["tariff"]["code"] == "free" and body["paid"] is False
    assert (body["limit"], body["used"], body["remaining"]) == (50, 0, 50)
    assert body["period_ends_at"] == "2026-12-01T00:00:00+03:00"
    # A subscription ending in ten days turns the warning on.
    factories.make_subscription(org, tariffs["400"], NOW - timedelta(days=355), ends_at=NOW + timedelta(days=10))
    body = api.get(f"/api/v1/organizations/{org.pk}/entitlements").json()
    assert body["fields"] == list(BASIC_FIELDS + EXTENDED_ONLY_FIELDS)
    assert body["warning"]["state"] == "expiring"
    assert body["warning"]["last_day"] == "2026-12-07"
    assert body["warning"]["pay_by_bank_transfer"] == "2026-12-02"
    assert not QuotaPeriod.objects.exists()  # looking creates nothing


def test_consume_spends_and_answers_remaining(api, paid_org):
    response = consume(api, paid_org, rows=4)
    assert response.status_code == 201
    body = response.json()
    export = ExportRecord.objects.get()
    assert body == {"export_id": export.pk, "rows": 4, "field_set": "basic",
                    "limit": 10_000, "used": 9_994, "remaining": 6}
    assert export.actor_label.startswith("api:ppk_") and export.idempotency_key == "k-1"


def test_a_paid_terms_export_reads_key_organization_and_period_with_one_query(
    api, paid_org, django_assert_num_queries
):
    consume(api, paid_org, rows=1)  # the key's last use is written once a minute
    # The key with the organization's period in force; the spending with its record (one
    # statement on PostgreSQL, an UPDATE and an INSERT elsewhere).
    spending = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(1 + spending + 2) as queries:  # + the savepoint and its release
        response = consume(api, paid_org, rows=2, idem="k-2")
    assert response.status_code == 201 and response.json()["used"] == 9_993
    assert sum("quota" in q["sql"] and q["sql"].startswith("SELECT") for q in queries) == 1


@pytest.mark.postgres
def test_on_a_persistent_connection_the_export_statements_are_prepared(api, paid_org, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    bodies = [consume(api, paid_org, rows=1, idem=f"p-{n}").json() for n in range(3)]
    assert [body["used"] for body in bodies] == [9_991, 9_992, 9_993]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert sum(s.startswith("SELECT") and "api_apikey" in s and "quotaperiod" in s for s in prepared) == 1
    assert sum(s.startswith("WITH spent AS") for s in prepared) == 1


def test_the_api_passes_by_the_pages_middleware_and_keeps_the_security_headers(api, paid_org, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = api.client.post(
        exports_url(paid_org), data=json.dumps({"rows": 1, "field_set": "basic"}),
        content_type="application/json", secure=True,
        headers={"Authorization": f"Bearer {api.raw_key}", "Idempotency-Key": "h"},
    )
    assert response.status_code == 201
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff" and response["X-Frame-Options"] == "DENY"
    assert response["Content-Language"] == "ru"
    # No session, signed-in person or current organization is made for a key's request.
    request = response.wsgi_request
    assert not any(hasattr(request, name) for name in ("session", "user", "_messages", "organization"))
    # The language cookie still chooses the language; the pages keep their middleware.
    api.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert api.get(f"/api/v1/organizations/{paid_org.pk}/entitlements")["Content-Language"] == "en"
    page = api.client.get("/login/").wsgi_request
    assert all(hasattr(page, name) for name in ("session", "user", "_messages", "organization"))


def test_over_the_limit_is_refused_whole_with_what_remains(api, paid_org):
    response = consume(api, paid_org, rows=11)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "limit_exceeded" and body["remaining"] == 10
    assert "осталось 10 строк" in body["message"]
    assert used(paid_org) == 9_990
    assert consume(api, paid_org, rows=10, idem="k-2").status_code == 201
    assert consume(api, paid_org, rows=1, idem="k-3").json()["remaining"] == 0


def test_field_set_not_in_tariff(api, paid_org):
    response = consume(api, paid_org, field_set="extended")
    assert response.status_code == 403
    assert response.json()["code"] == "field_set_not_included"
    assert response.json()["field_set"] == "basic"
    assert used(paid_org) == 9_990


def test_same_key_replays_the_first_answer_and_spends_once(api, paid_org):
    first = consume(api, paid_org, rows=3)
    again = consume(api, paid_org, rows=3)
    assert again.status_code == 201 and again.json() == first.json()
    assert used(paid_org) == 9_993 and ExportRecord.objects.count() == 1
    # A refusal is an answer too: repeating it returns it, even after the limit grows.
    refused = consume(api, paid_org, rows=50, idem="big")
    QuotaPeriod.objects.update(limit=20_000)
    assert consume(api, paid_org, rows=50, idem="big").json() == refused.json()


def test_a_whole_number_written_as_3_0_is_three_rows(api, paid_org):
    response = api.post(exports_url(paid_org), raw='{"rows": 3.0, "field_set": "basic"}', **{"Idempotency-Key": "f"})
    assert response.status_code == 201 and response.json()["rows"] == 3


def test_same_key_with_another_body_is_refused(api, paid_org):
    consume(api, paid_org, rows=3)
    response = consume(api, paid_org, rows=4)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert used(paid_org) == 9_993


@pytest.mark.parametrize(
    "raw, field",
    [
        ('{"rows": 0, "field_set": "basic"}', "rows"),
        ('{"rows": -1, "field_set": "basic"}', "rows"),
        ('{"rows": 1000000001, "field_set": "basic"}', "rows"),
        ('{"rows": 99999999999999999999999, "field_set": "basic"}', "rows"),
        ('{"rows": 2.5, "field_set": "basic"}', "rows"),
        ('{"rows": "5", "field_set": "basic"}', "rows"),
        ('{"rows": true, "field_set": "basic"}', "rows"),
        ('{"field_set": "basic"}', "rows"),
        ('{"rows": 5, "field_set": "full"}', "field_set"),
        ('{"rows": 5}', "field_set"),
        ("not json", "body"),
        ('{"rows": 5, "field_set": "basic"', "body"),
        ("[1, 2]", None),
        ("", None),
    ],
)
def test_bad_bodies_are_refused_and_spend_nothing(api, paid_org, raw, field):
    response = api.post(exports_url(paid_org), raw=raw, **{"Idempotency-Key": "bad"})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_request" and body["message"]
    if field:
        assert field in body["errors"]
    assert used(paid_org) == 9_990 and not ExportRecord.objects.exists()


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": ""}, {"Idempotency-Key": "x" * 201}, {"Idempotency-Key": "ключ"}])
def test_idempotency_key_is_required(api, paid_org, headers):
    response = api.post(exports_url(paid_org), {"rows": 1, "field_set": "basic"}, **headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert "Idempotency-Key" in response.json()["errors"]
    assert used(paid_org) == 9_990


@pytest.mark.parametrize("key", [None, "", "ppk_wrong", "Basic abc"])
def test_without_a_valid_key_401_and_nothing_changes(api, paid_org, key):
    for response in (
        consume(api, paid_org, idem="k", key=key),
        api.get(f"/api/v1/organizations/{paid_org.pk}/entitlements", key=key),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert "API-ключ" in response.json()["message"]
    assert used(paid_org) == 9_990


def test_revoked_key_gets_401(api, api_key, paid_org, owner):
    assert consume(api, paid_org, rows=1).status_code == 201
    revoke_key(api_key[0], actor=owner)
    response = consume(api, paid_org, rows=1, idem="k-2")
    assert response.status_code == 401
    assert used(paid_org) == 9_991


def test_scoped_key_sees_only_its_organizations(paid_org, tariffs):
    other = factories.make_org()
    _, raw = issue_key("Интеграция", [paid_org])
    scoped = ApiClient(raw)
    assert scoped.get(f"/api/v1/organizations/{paid_org.pk}/entitlements").status_code == 200
    for response in (
        scoped.get(f"/api/v1/organizations/{other.pk}/entitlements"),
        scoped.get(f"/api/v1/organizations/by-inn/{other.inn}/entitlements"),
        consume(scoped, other, rows=1),
    ):
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "Организация не найдена."}
    assert not QuotaPeriod.objects.filter(organization=other).exists()


def test_unknown_organization_and_address(api, tariffs):
    assert api.get("/api/v1/organizations/999999/entitlements").status_code == 404
    assert api.get("/api/v1/organizations/by-inn/7707083893/entitlements").status_code == 404
    assert api.get("/api/v1/organizations/by-inn/12345/entitlements").status_code == 422
    response = api.get("/api/v1/organizations/99999999999999999999999/entitlements")
    assert response.status_code == 422
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = api.get("/api/v1/organizations/1/exports")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "POST"


def test_refund_returns_rows_once(api, paid_org):
    export_id = consume(api, paid_org, rows=8).json()["export_id"]
    url = f"{exports_url(paid_org)}/{export_id}/refund"
    response = api.post(url, {"rows": 5})
    assert response.status_code == 200
    assert response.json() == {"export_id": export_id, "refunded_rows": 5, "used": 9_993, "remaining": 7}
    too_much = api.post(url, {"rows": 4})
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "refund_exceeds_export" and too_much.json()["refundable"] == 3
    assert api.post(url, {"rows": 3}).json()["refunded_rows"] == 8
    assert api.post(url, {"rows": 1}).status_code == 422
    assert used(paid_org) == 9_990
    for bad in ({"rows": 0}, {"rows": -3}, {}):
        assert api.post(url, bad).status_code == 422
    assert used(paid_org) == 9_990


def test_refund_of_another_organizations_or_refused_export_is_404(api, paid_org, tariffs):
    other = factories.make_org()
    factories.make_subscription(other, tariffs["200"], NOW.replace(month=6, day=1, hour=0))
    theirs = consume(api, other, rows=2, idem="o").json()["export_id"]
    assert api.post(f"{exports_url(paid_org)}/{theirs}/refund", {"rows": 1}).status_code == 404
    refused = consume(api, paid_org, rows=500, idem="r")
    assert refused.status_code == 409
    refused_id = ExportRecord.objects.get(idempotency_key="r").pk
    assert api.post(f"{exports_url(paid_org)}/{refused_id}/refund", {"rows": 1}).status_code == 404


def test_openapi_schema_is_served(api):
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/organizations/{organization_id}/exports" in paths
    assert "/api/v1/organizations/by-inn/{inn}/entitlements" in paths
    assert api.client.get("/api/v1/docs").status_code == 200


def test_refund_with_idempotency_key_gives_back_once(api, paid_org):
    export_id = consume(api, paid_org, rows=8).json()["export_id"]
    url = f"{exports_url(paid_org)}/{export_id}/refund"
    first = api.post(url, {"rows": 3}, **{"Idempotency-Key": "refund-1"})
    again = api.post(url, {"rows": 3}, **{"Idempotency-Key": "refund-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() == {"export_id": export_id, "refunded_rows": 3, "used": 9_995, "remaining": 5}
    assert used(paid_org) == 9_995
    other = api.post(url, {"rows": 2}, **{"Idempotency-Key": "refund-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # After the rest is given back, a retry of the first still replays its answer.
    assert api.post(url, {"rows": 5}, **{"Idempotency-Key": "refund-2"}).status_code == 200
    assert api.post(url, {"rows": 3}, **{"Idempotency-Key": "refund-1"}).json() == first.json()
    assert used(paid_org) == 9_990


@pytest.mark.parametrize("size", [limits.MAX_API_BODY_BYTES + 1, 3 * 2**20])
def test_a_body_over_the_limit_is_413_json_and_spends_nothing(api, paid_org, size):
    head = '{"rows": 5, "field_set": "basic"'
    raw = head + " " * (size - len(head) - 1) + "}"
    assert len(raw.encode()) == size > limits.MAX_API_BODY_BYTES
    for url in (exports_url(paid_org), f"{exports_url(paid_org)}/1/refund"):
        response = api.post(url, raw=raw, **{"Idempotency-Key": "big"})
        assert response.status_code == 413, response.content
        body = response.json()
        assert body["code"] == "request_too_large" and "КБ" in body["message"]
    assert used(paid_org) == 9_990 and not ExportRecord.objects.exists()

    at_limit = head + " " * (limits.MAX_API_BODY_BYTES - len(head) - 1) + "}"
    assert len(at_limit.encode()) == limits.MAX_API_BODY_BYTES
    assert api.post(exports_url(paid_org), raw=at_limit, **{"Idempotency-Key": "ok"}).status_code == 201


def test_every_quota_outcome_and_refusal_code_has_an_http_status():
    """A code with no status would answer 500: every code the domain can raise is mapped."""
    import inspect
    import re

    from podpiska.api import api, refunds
    from podpiska.subscriptions import quota
    from podpiska.subscriptions.models import ExportOutcome

    raised = set()
    for module in (quota, refunds):
        raised |= set(re.findall(r'QuotaRequestError\(\s*"(\w+)"', inspect.getsource(module)))
    assert {"invalid_request", "export_not_found", "idempotency_key_reused"} <= raised
    assert set(ExportOutcome.values) | raised == set(api.STATUS)
