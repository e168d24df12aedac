"""The directory's API client against a local fake server that speaks the API contract.

The fake stands in for an outside server only (it is HTTP, not the database); the
end-to-end tests through the real API are in test_directory_export.py.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from podpiska.catalog.models import FIELDS_BY_SET
from podpiska.demo.directory import export as export_module
from podpiska.demo.directory.api_client import (
    ApiError,
    ApiUnavailable,
    FieldSetNotIncluded,
    LimitExceeded,
    PodpiskaClient,
)
from podpiska.demo.directory.export import COLUMNS, ExportRefused, export_selection
from podpiska.demo.directory.generator import load_directory
from podpiska.demo.models import Company, DirectoryExport

KEY = "ppk_fake-key"


class FakeApi:
    """The /api/v1 contract for one organization, in memory."""

    def __init__(self, *, limit=100, used=0, field_set="basic", status_override=None):
        self.limit, self.used, self.field_set = limit, used, field_set
        self.status_override = status_override
        self.exports: dict[str, dict] = {}
        self.answers: dict[str, tuple[int, dict]] = {}
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def entitlements(self, org_id):
        return 200, {
            "organization_id": org_id, "inn": "7707083893", "tariff": {"code": "200", "name": "Компас 200"},
            "paid": True, "field_set": self.field_set, "fields": list(FIELDS_BY_SET[self.field_set]),
            "limit": self.limit, "used": self.used, "remaining": self.limit - self.used,
            "period_starts_at": "2026-01-01T00:00:00+03:00", "period_ends_at": "2027-01-01T00:00:00+03:00",
            "warning": {"state": "none", "last_day": None, "pay_by_bank_transfer": None},
        }

    def consume(self, key, body):
        if key in self.answers:
            return self.answers[key]
        if body["field_set"] == "extended" and self.field_set != "extended":
            answer = 403, {"code": "field_set_not_included", "message": "Расширенный набор полей не входит в тариф."}
        elif self.used + body["rows"] > self.limit:
            answer = 409, {"code": "limit_exceeded", "message": "Лимит исчерпан.", "remaining": self.limit - self.used}
        else:
            self.used += body["rows"]
            export_id = str(len(self.exports) + 1)
            self.exports[export_id] = {"rows": body["rows"], "refunded": 0}
            answer = 201, {"export_id": export_id, "rows": body["rows"], "field_set": body["field_set"],
                           "limit": self.limit, "used": self.used, "remaining": self.limit - self.used}
        self.answers[key] = answer
        return answer

    def refund(self, export_id, body):
        export = self.exports[export_id]
        export["refunded"] += body["rows"]
        self.used -= body["rows"]
        return 200, {"export_id": export_id, "refunded_rows": export["refunded"], "used": self.used,
                     "remaining": self.limit - self.used}

    def handle(self, method, path, headers, body):
        self.calls.append((method, path))
        if self.status_override:
            return self.status_override, {"code": "internal_error", "message": "Внутренняя ошибка."}
        if headers.get("Authorization") != f"Bearer {KEY}":
            return 401, {"code": "unauthorized", "message": "Нужен действующий API-ключ."}
        parts = path.strip("/").split("/")  # api v1 organizations {id} ...
        with self.lock:
            if method == "GET" and parts[4:] == ["entitlements"]:
                return self.entitlements(int(parts[3]))
            if method == "POST" and parts[4:] == ["exports"]:
                return self.consume(headers["Idempotency-Key"], body)
            if method == "POST" and parts[4] == "exports" and parts[6:] == ["refund"]:
                return self.refund(parts[5], body)
        return 404, {"code": "not_found", "message": "Не найдено."}


@pytest.fixture
def fake_api():
    """A threaded HTTP server on a free local port; yields (FakeApi, base URL)."""
    api = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = api.handle(self.command, self.path, self.headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def client_of(fake_api):
    api, url = fake_api
    with PodpiskaClient(url, KEY, timeout=5) as client:
        yield api, client


def test_client_speaks_the_contract(client_of):
    api, client = client_of
    assert client.entitlements(7)["remaining"] == 100
    spent = client.consume(7, rows=30, field_set="basic", idempotency_key="k1")
    assert spent["remaining"] == 70
    # The same key replays the first answer and spends nothing again.
    assert client.consume(7, rows=30, field_set="basic", idempotency_key="k1") == spent
    assert api.used == 30
    assert client.refund(7, spent["export_id"], rows=10)["remaining"] == 80


def test_client_turns_refusals_into_errors(client_of):
    api, client = client_of
    with pytest.raises(LimitExceeded) as over:
        client.consume(7, rows=101, field_set="basic", idempotency_key="k2")
    assert over.value.remaining == 100 and over.value.status == 409
    with pytest.raises(FieldSetNotIncluded) as forbidden:
        client.consume(7, rows=1, field_set="extended", idempotency_key="k3")
    assert forbidden.value.status == 403 and "Расширенный" in forbidden.value.message
    assert api.used == 0


def test_client_without_a_valid_key_gets_401(fake_api):
    api, url = fake_api
    with PodpiskaClient(url, "ppk_wrong") as client, pytest.raises(ApiError) as denied:
        client.entitlements(7)
    assert denied.value.status == 401 and denied.value.code == "unauthorized"


def test_client_reports_an_unreachable_or_failing_server(fake_api):
    api, url = fake_api
    api.status_override = 500
    with PodpiskaClient(url, KEY) as client, pytest.raises(ApiUnavailable):
        client.entitlements(7)
    with PodpiskaClient("http://127.0.0.1:9/", KEY, timeout=2) as client, pytest.raises(ApiUnavailable):
        client.entitlements(7)


# --- export_selection against the fake: the order of steps and the refund ---------

@pytest.fixture
def companies(db):
    load_directory(120, seed=7)
    return Company.objects.order_by("search_name", "id")


def _export(client, org, companies, **over):
    # 40 of the fake's 100 is more than a tenth: the page would have asked, and been told yes.
    args = dict(organization=org, user=None, companies=companies, rows=40, file_format="csv",
                idempotency_key="form-key-1", confirmed=True)
    return export_selection(client, **{**args, **over})


def test_export_spends_exactly_the_rows_written(client_of, companies, org, clock):
    api, client = client_of
    done = _export(client, org, companies)
    lines = bytes(done.content).decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 40 and api.used == 40
    assert lines[0].split(";") == [COLUMNS[f].header for f in FIELDS_BY_SET["basic"]]
    # A repeated submission returns the same export without calling the API again.
    calls = len(api.calls)
    assert _export(client, org, companies).pk == done.pk
    assert len(api.calls) == calls and api.used == 40


def test_export_over_the_limit_is_refused_with_nothing_written(client_of, companies, org, clock):
    api, client = client_of
    api.used = 95
    with pytest.raises(ExportRefused) as refused:
        _export(client, org, companies)
    assert refused.value.message == "Не хватает лимита выгрузки: осталось 5. Выгрузите не больше 5 строк или продлите либо улучшите подписку."
    assert api.used == 95 and not DirectoryExport.objects.exists()


def test_a_file_that_cannot_be_built_gives_the_rows_back(client_of, companies, org, clock, monkeypatch):
    api, client = client_of

    def broken(companies, fields):
        raise OSError("disk full")

    monkeypatch.setitem(export_module.BUILDERS, "csv", broken)
    with pytest.raises(ExportRefused) as refused:
        _export(client, org, companies)
    assert "возвращены в лимит" in refused.value.message
    assert api.used == 0 and api.exports["1"]["refunded"] == 40
    failed = DirectoryExport.objects.get()
    assert failed.state == DirectoryExport.State.FAILED and not failed.content
    # The same form again does not spend a second time.
    with pytest.raises(ExportRefused):
        _export(client, org, companies)
    assert api.used == 0


def test_selection_smaller_than_asked_spends_only_what_exists(client_of, companies, org, clock):
    api, client = client_of
    seven = Company.objects.filter(pk__in=list(companies.values_list("pk", flat=True)[:7]))
    done = _export(client, org, seven, rows=40)
    assert done.rows == 7 and api.used == 7


def test_empty_selection_spends_nothing(client_of, companies, org, clock):
    api, client = client_of
    with pytest.raises(ExportRefused, match="выгружать нечего"):
        _export(client, org, companies.filter(inn="0"))
    assert api.calls == []


def test_limit_message_when_nothing_is_left():
    from podpiska.demo.directory.export import limit_message

    assert limit_message(0) == "Лимит выгрузки исчерпан. Продлите или улучшите подписку."
    assert "осталось 1\u00a0260" in limit_message(1260)


def test_an_unconfirmed_large_export_spends_nothing(client_of, companies, org, clock):
    from podpiska.demo.directory.export import ConfirmationNeeded

    api, client = client_of
    with pytest.raises(ConfirmationNeeded) as asked:
        _export(client, org, companies, confirmed=False)
    assert (asked.value.rows, asked.value.remaining) == (40, 100)
    assert api.used == 0 and not DirectoryExport.objects.exists()
