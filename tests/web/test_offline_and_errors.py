"""Pages that must work without internet and errors that look like the product."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import path

from podpiska import urls as project_urls


def boom(request):
    raise RuntimeError("сломалось")


urlpatterns = [*project_urls.urlpatterns, path("test-boom/", boom)]
handler404 = project_urls.handler404
handler403 = project_urls.handler403
handler500 = project_urls.handler500


def local_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_api_docs_load_swagger_ui_from_our_own_static_files(db, client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = local_assets(html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset  # nothing from a CDN
        assert finders.find(asset.removeprefix("/static/")), asset
        assert client.get(asset).status_code == 200, asset


def test_favicon_is_served(db, client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content)


@override_settings(DEBUG=False)
def test_unknown_page_is_a_customer_styled_404_in_russian_and_english(db):
    client = Client()
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="error-page"' in html and "Страница не найдена" in html
    assert "podpiska/app.css" in html and 'href="/"' in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/no-such-page/").content.decode()


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_server_error_is_a_customer_styled_500(db):
    client = Client(raise_request_exception=False)
    response = client.get("/test-boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'data-testid="error-page"' in html and "Что-то пошло не так" in html
    assert "Traceback" not in html and "сломалось" not in html


@pytest.mark.parametrize("status, heading", [(403, "Нет доступа"), (404, "Страница не найдена")])
def test_error_handlers_render_without_a_database(status, heading, rf):
    from podpiska.web import errors

    handler = errors.forbidden if status == 403 else errors.not_found
    response = handler(rf.get("/x/"))
    assert response.status_code == status
    assert heading in response.content.decode()


def test_demo_settings_show_customer_error_pages_unless_debug_is_asked_for(monkeypatch):
    import importlib

    monkeypatch.delenv("DEBUG", raising=False)
    import podpiska.settings.demo as demo_settings

    assert importlib.reload(demo_settings).DEBUG is False
