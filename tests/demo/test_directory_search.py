"""Searching «Поиск компаний»: text, region, OKVED and status filters, paging, access."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from podpiska.demo.directory.generator import load_directory, search_key
from podpiska.demo.directory.search import PAGE_SIZE, search_companies
from podpiska.demo.models import Company, DirectoryExport
from tests import factories
from tests.demo.test_directory_client import KEY, fake_api  # noqa: F401  (fixture)


@pytest.fixture
def companies(db):
    load_directory(1_500, seed=9)
    return Company.objects.all()


@pytest.fixture
def page(client, settings, fake_api, companies):  # noqa: F811
    """A signed-in customer; the page's API calls go to the local fake API."""
    _, url = fake_api
    settings.DIRECTORY_API_URL = url
    from podpiska.demo.directory import credentials

    credentials.ensure_credentials()
    credentials.DirectoryCredentials.objects.update(api_key=KEY)
    user = factories.make_user()
    factories.make_org(user=user)
    client.force_login(user)

    def get(**params):
        response = client.get("/directory/", params)
        assert response.status_code == 200
        return response

    return get


def test_text_search_by_name_words_and_inn_prefix(companies):
    sample = companies.exclude(legal_form="ИП").order_by("id").first()
    word = sample.name.split("«")[1].split("»")[0].split()[0].split("-")[0]
    found = search_companies(q=word.upper())
    assert sample in found and all(search_key(word) in c.search_name for c in found)
    assert list(search_companies(q=sample.inn)) == [sample]
    assert all(c.inn.startswith(sample.inn[:4]) or c.ogrn.startswith(sample.inn[:4])
               for c in search_companies(q=sample.inn[:4]))
    # Every word must match, in any order; «ё» and «е» are one letter.
    ip = companies.filter(legal_form="ИП").first()
    last, first, _ = ip.name.removeprefix("ИП ").split()
    assert ip in search_companies(q=f"{first} {last}".replace("е", "ё"))
    assert not search_companies(q="несуществующаякомпания").exists()


def test_filters_combine(companies):
    moscow_it = search_companies(region="77", okved="62.01", status="active")
    assert moscow_it.exists()
    assert all((c.region_code, c.okved_code, c.status) == ("77", "62.01", "active") for c in moscow_it)
    assert search_companies(region="77").count() + search_companies(region="78").count() < companies.count()
    assert search_companies(status="liquidated").count() + search_companies(status="active").count() == companies.count()


def test_pages_hold_the_selection_in_order(page, companies):
    first, second = page(region="77"), page(region="77", page=2)
    total = search_companies(region="77").count()
    assert first.context["page"].paginator.count == total > PAGE_SIZE
    names_1 = [c.pk for c in first.context["page"].object_list]
    names_2 = [c.pk for c in second.context["page"].object_list]
    assert len(names_1) == PAGE_SIZE and not set(names_1) & set(names_2)
    assert names_1 + names_2 == list(search_companies(region="77").values_list("pk", flat=True)[: len(names_1 + names_2)])
    # Page links keep the filters; a page past the end shows the last one.
    assert "region=77" in first.content.decode() and "page=2" in first.content.decode()
    assert page(region="77", page=9999).context["page"].number == first.context["page"].paginator.num_pages
    assert page(page="abc").context["page"].number == 1


def test_a_page_costs_the_same_few_queries_whatever_its_size(page, companies):
    def queries(**params):
        with CaptureQueriesContext(connection) as captured:
            response = page(**params)
        return len(captured), len(response.context["page"].object_list)

    many, full = queries(q="ооо")
    few, one = queries(q=companies.first().inn)
    assert (full, one) == (PAGE_SIZE, 1) and many == few


def test_the_page_shows_the_organizations_entitlements_from_the_api(page, fake_api):  # noqa: F811
    api, _ = fake_api
    api.used = 40
    response = page()
    text = response.content.decode()
    assert "Компас 200" in text and "осталось 60 из 100" in text
    assert "Наименование, ИНН, ОГРН/ОГРНИП, КПП, Адрес, Регион, ОКВЭД, Статус" in text
    # The rows on screen (a page of 50), not the whole remaining 60: one click spends on purpose.
    assert response.context["export_form"].initial["rows"] == 50
    assert "Спишется: 50 строк, останется: 10 из 60." in text
    # A fresh idempotency key on every drawing of the form.
    assert page().context["export_form"].initial["key"] != response.context["export_form"].initial["key"]


def test_a_broken_api_leaves_search_working(page, fake_api):  # noqa: F811
    api, _ = fake_api
    api.status_override = 503
    response = page(q="ооо")
    assert response.context["page"].paginator.count > 0
    assert "Не удалось узнать лимит выгрузки" in response.content.decode()


def test_bad_filters_are_ignored_not_fatal(page):
    response = page(region="99x", okved="<script>", status="nope")
    assert response.context["page"].paginator.count == Company.objects.count()


def test_only_signed_in_users(client, companies):
    assert client.get("/directory/")["Location"].startswith("/login/")
    assert client.post("/directory/export/", {})["Location"].startswith("/login/")


def test_a_user_without_an_organization_can_search_but_not_export(client, companies):
    client.force_login(factories.make_user())
    response = client.get("/directory/")
    assert response.status_code == 200 and response.context["export_form"] is None
    assert client.post("/directory/export/", {"rows": 1, "file_format": "csv", "key": "abcdefgh12"}).status_code == 404


@pytest.mark.parametrize("bad", [
    {"rows": 0}, {"rows": -5}, {"rows": 10_001}, {"rows": "много"}, {"file_format": "pdf"},
    {"key": ""}, {"key": "no spaces allowed"},
])
def test_bad_export_input_is_refused_with_nothing_spent(page, fake_api, client, bad):  # noqa: F811
    api, _ = fake_api
    page()
    response = client.post("/directory/export/", {"rows": 10, "file_format": "csv", "key": "abcdef123456", **bad})
    assert response.status_code == 302 and "ready=" not in response["Location"]
    assert "Выгрузка не выполнена — проверьте форму" in str(list(get_messages(response.wsgi_request))[0])
    assert api.used == 0 and not [c for c in api.calls if c[0] == "POST"]
    assert not DirectoryExport.objects.exists()


def test_without_a_key_the_directory_says_it_is_not_connected(client, companies):
    user = factories.make_user()
    factories.make_org(user=user)
    client.force_login(user)
    response = client.get("/directory/")
    assert "каталог не подключён к API" in response.content.decode()
    response = client.post("/directory/export/", {"rows": 1, "file_format": "csv", "key": "abcdef123456"})
    assert "каталог не подключён к API" in str(list(get_messages(response.wsgi_request))[0])
    assert not DirectoryExport.objects.exists()
