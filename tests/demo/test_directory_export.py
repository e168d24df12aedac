"""Exports from «Поиск компаний» end to end: the page calls the real API over HTTP
(live_server) with the directory's key, and the organization's limit moves."""

import csv
import io
import re
import threading
from datetime import timedelta

import httpx
import pytest
from django.contrib.messages import get_messages
from django.db import connection
from openpyxl import load_workbook

from podpiska.api.entitlements import entitlements
from podpiska.catalog.models import FIELDS_BY_SET
from podpiska.demo.directory import export as export_module
from podpiska.demo.directory.credentials import ensure_credentials
from podpiska.demo.directory.export import COLUMNS
from podpiska.demo.directory.generator import load_directory
from podpiska.demo.directory.search import search_companies
from podpiska.demo.models import DirectoryExport
from podpiska.subscriptions.models import ExportRecord
from tests import factories
from tests.conftest import NOW

BASIC = [COLUMNS[f].header for f in FIELDS_BY_SET["basic"]]
EXTENDED = [COLUMNS[f].header for f in FIELDS_BY_SET["extended"]]


@pytest.fixture
def directory(live_server, settings, clock, tariffs):
    """A small directory, and the directory pointed at the live server's API."""
    settings.DIRECTORY_API_URL = live_server.url
    load_directory(300, seed=42)
    ensure_credentials()
    return live_server


def customer(tariff=None, used=0):
    user = factories.make_user()
    org = factories.make_org(user=user)
    if tariff is not None:
        factories.make_subscription(org, tariff, NOW - timedelta(days=30), used=used)
    return user, org


def used(org) -> int:
    return entitlements(org, NOW)["used"]


def form_key(client, **filters) -> str:
    page = client.get("/directory/", filters)
    assert page.status_code == 200
    return page.context["export_form"].initial["key"]


def submit(client, key, *, rows, file_format="xlsx", **filters):
    return client.post("/directory/export/", {**filters, "rows": rows, "file_format": file_format, "key": key})


def message_of(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def download(client, response) -> tuple[DirectoryExport, bytes]:
    assert response.status_code == 302 and "ready=" in response["Location"], message_of(response)
    done = DirectoryExport.objects.get(pk=response["Location"].rsplit("ready=", 1)[1])
    file = client.get(f"/directory/exports/{done.pk}/")
    assert file.status_code == 200 and "attachment" in file["Content-Disposition"]
    return done, file.content


def test_xlsx_export_has_exactly_the_basic_columns_and_spends_the_rows(directory, client, tariffs):
    user, org = customer(tariffs["200"], used=100)
    client.force_login(user)
    key = form_key(client, region="77")

    done, content = download(client, submit(client, key, rows=25, region="77"))

    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0] == BASIC and len(table) == 1 + 25
    expected = list(search_companies(region="77").values_list("inn", flat=True)[:25])
    assert [row[1] for row in table[1:]] == expected
    assert all(row[5].startswith("77 г. Москва") for row in table[1:])
    assert used(org) == 125 and done.rows == 25
    # The speedometer in the header and the page show the new remainder.
    page = client.get("/directory/")
    assert page.context["entitlements"]["remaining"] == 10_000 - 125
    assert re.search(r'data-testid="gauge-text">125 / 10\xa0000<', page.content.decode())


def test_csv_export_of_an_extended_tariff_has_the_extended_columns(directory, client, tariffs):
    user, org = customer(tariffs["400"])
    client.force_login(user)
    key = form_key(client)

    done, content = download(client, submit(client, key, rows=40, file_format="csv"))

    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == EXTENDED and len(rows) == 41
    assert sum(1 for row in rows[1:] if row[EXTENDED.index("Телефоны")].startswith("+7")) == 40
    assert all(row[EXTENDED.index("Выручка, руб.")].isdigit() for row in rows[1:] if row[11])
    assert used(org) == 40 and done.field_set == "extended"


def test_over_the_limit_nothing_is_exported(directory, client, tariffs):
    user, org = customer(tariffs["100"], used=2_990)
    client.force_login(user)
    key = form_key(client)

    response = submit(client, key, rows=20)

    assert response.status_code == 302 and "ready=" not in response["Location"]
    assert message_of(response) == "Не хватает лимита выгрузки: осталось 10. Выгрузите не больше 10 строк или продлите либо улучшите подписку."
    assert used(org) == 2_990 and not DirectoryExport.objects.exists()


def test_double_submit_spends_once(directory, client, tariffs):
    user, org = customer(tariffs["200"])
    client.force_login(user)
    key = form_key(client, q="ооо")

    first = submit(client, key, rows=30, q="ооо")
    second = submit(client, key, rows=30, q="ооо")

    assert first["Location"] == second["Location"]
    assert used(org) == 30
    assert ExportRecord.objects.filter(organization=org).count() == 1
    assert DirectoryExport.objects.count() == 1


def test_another_organizations_user_cannot_export_for_yours(directory, client, tariffs):
    owner_a, org_a = customer(tariffs["200"])
    client.force_login(owner_a)
    done_a, _ = download(client, submit(client, form_key(client), rows=5))

    stranger, org_b = customer()  # free tariff: 50 before the first export
    client.force_login(stranger)
    key = form_key(client)
    # A hand-added organization in the form is ignored: the session decides.
    response = client.post("/directory/export/", {
        "rows": 10, "file_format": "csv", "key": key, "organization": org_a.pk, "organization_id": org_a.pk,
        "confirmed": "true",  # 10 of the free 50 is more than a tenth: confirmed, as the page asks
    })
    done_b, _ = download(client, response)

    assert done_b.organization == org_b and used(org_b) == 10 and used(org_a) == 5
    assert client.get(f"/directory/exports/{done_a.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/directory/exports/{done_b.pk}/").status_code == 302  # to the login page
    assert submit(client, key, rows=1).status_code == 302 and used(org_b) == 10


def test_a_file_that_cannot_be_built_gives_the_rows_back(directory, client, tariffs, monkeypatch):
    user, org = customer(tariffs["200"], used=7)
    client.force_login(user)
    key = form_key(client)

    def broken(companies, fields):
        raise MemoryError("no room for the workbook")

    monkeypatch.setitem(export_module.BUILDERS, "xlsx", broken)
    response = submit(client, key, rows=50)

    assert "возвращены в лимит" in message_of(response)
    assert used(org) == 7
    record = ExportRecord.objects.get(organization=org)
    assert record.rows == 50 and record.refunded_rows == 50
    assert DirectoryExport.objects.get().state == DirectoryExport.State.FAILED


def test_the_served_page_calls_its_own_api_over_http(directory, client, tariffs):
    """The server is threaded: a page request waits on an API request to the same server."""
    user, org = customer(tariffs["max"], used=41_200)
    client.force_login(user)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    with httpx.Client(base_url=directory.url, cookies=cookies, timeout=20) as browser:
        page = browser.get("/directory/", params={"q": "ип"})
    assert page.status_code == 200
    assert "осталось 108" in page.text and "Компас Максимум" in page.text


@pytest.mark.postgres
def test_a_form_submitted_many_times_at_once_spends_once(directory, client, tariffs):
    """Several submissions of one form race through the threaded server: one spend,
    one file, every answer pointing at it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent requests")
    user, org = customer(tariffs["200"])
    client.force_login(user)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    with httpx.Client(base_url=directory.url, cookies=cookies, timeout=60) as browser:
        page = browser.get("/directory/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    key = re.search(r'name="key" value="([^"]+)"', page)[1]
    cookies["csrftoken"] = browser.cookies["csrftoken"]
    answers, barrier = [], threading.Barrier(6)

    def submit_once():
        with httpx.Client(base_url=directory.url, cookies=cookies, timeout=60) as own:
            barrier.wait()
            answers.append(own.post("/directory/export/", data={
                "csrfmiddlewaretoken": token, "key": key, "rows": 60, "file_format": "xlsx",
            }))

    threads = [threading.Thread(target=submit_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {a.status_code for a in answers} == {302}
    assert len({a.headers["Location"] for a in answers}) == 1 and "ready=" in answers[0].headers["Location"]
    assert used(org) == 60
    assert ExportRecord.objects.filter(organization=org).count() == 1
    assert DirectoryExport.objects.count() == 1


# Spending on purpose: the form offers the rows on screen, says what the export spends and
# what remains, and an export of more than 10 % of what remains is confirmed first.


def test_needs_confirmation_above_a_tenth_of_what_remains():
    assert not export_module.needs_confirmation(100, 1000)
    assert export_module.needs_confirmation(101, 1000)
    assert export_module.needs_confirmation(1, 5)
    assert not export_module.needs_confirmation(2000, 760)  # refused anyway: not asked about
    assert not export_module.needs_confirmation(0, 1000)


def test_the_form_offers_the_rows_on_screen_and_says_what_remains(directory, client, tariffs):
    user, org = customer(tariffs["200"], used=100)
    client.force_login(user)
    page = client.get("/directory/")
    assert page.context["export_form"].initial["rows"] == 50  # one page of 50, not the whole 9 900
    html = page.content.decode()
    assert "Спишется: 50 строк, останется: 9\xa0850 из 9\xa0900." in html
    few = search_companies(q="1").count()
    assert page.context["page"].paginator.count > few
    narrow = client.get("/directory/", {"region": "77"})
    found = narrow.context["page"].paginator.count
    assert narrow.context["export_form"].initial["rows"] == min(50, found)


def test_the_offer_never_exceeds_what_remains(directory, client, tariffs):
    user, org = customer(tariffs["200"], used=10_000 - 7)
    client.force_login(user)
    assert client.get("/directory/").context["export_form"].initial["rows"] == 7


def test_a_large_export_is_confirmed_first_and_spends_once(directory, client, tariffs):
    user, org = customer(tariffs["200"], used=9_000)  # 1 000 remain: 100 rows is the most unasked
    client.force_login(user)
    key = form_key(client)
    asked = submit(client, key, rows=101)
    assert asked.status_code == 302 and "confirm_rows=101" in asked["Location"]
    assert used(org) == 9_000 and not DirectoryExport.objects.exists()  # nothing spent yet

    page = client.get(asked["Location"])
    html = page.content.decode()
    assert 'data-testid="export-confirm"' in html
    assert "Эта выгрузка спишет 101 строк — больше 10 % остатка лимита. После неё останется 899." in html
    assert page.context["export_form"].initial["key"] == key  # the same form: confirming spends once

    confirmed = {"rows": 101, "file_format": "xlsx", "key": key, "confirmed": "true"}
    done, _ = download(client, client.post("/directory/export/", confirmed))
    again = client.post("/directory/export/", confirmed)
    assert again.status_code == 302 and f"ready={done.pk}" in again["Location"]
    assert used(org) == 9_101 and done.rows == 101


def test_a_small_export_is_not_asked_about(directory, client, tariffs):
    user, org = customer(tariffs["200"], used=9_000)
    client.force_login(user)
    done, _ = download(client, submit(client, form_key(client), rows=100))
    assert done.rows == 100 and used(org) == 9_100


def test_a_hand_made_confirmation_address_asks_nothing_and_breaks_nothing(directory, client, tariffs):
    user, org = customer(tariffs["200"], used=9_000)
    client.force_login(user)
    for params in ({"confirm_rows": "abc", "file_format": "xlsx", "key": "k" * 10},
                   {"confirm_rows": "9" * 30, "file_format": "xlsx", "key": "k" * 10},
                   {"confirm_rows": "200", "file_format": "exe", "key": "k" * 10},
                   {"confirm_rows": "200", "file_format": "xlsx", "key": "\x00bad"},
                   {"confirm_rows": "5", "file_format": "xlsx", "key": "k" * 10}):  # small: no question
        page = client.get("/directory/", params)
        assert page.status_code == 200
        assert 'data-testid="export-confirm"' not in page.content.decode()
    assert used(org) == 9_000
