import pytest
from django.test import Client

from podpiska.accounts.current import SESSION_KEY
from tests.factories import make_org, make_user


@pytest.mark.django_db
def test_login_by_email_and_wrong_password_does_not_tell_if_email_exists():
    make_user("anna@example.com", password="right-password")
    client = Client()
    page = client.get("/login/")
    assert "Электронная почта" in page.content.decode()
    wrong_pass = client.post("/login/", {"username": "anna@example.com", "password": "nope"})
    unknown = client.post("/login/", {"username": "nobody@example.com", "password": "nope"})
    message = "Неверная электронная почта или пароль."
    assert message in wrong_pass.content.decode() and message in unknown.content.decode()
    ok = client.post("/login/", {"username": "anna@example.com", "password": "right-password"})
    assert ok.status_code == 302


@pytest.mark.django_db
def test_current_organization_is_one_of_the_users():
    from django.http import Http404
    from django.test import RequestFactory

    from podpiska.accounts.current import current_membership, switch_organization

    user = make_user()
    first = make_org(user=user, short_name="А")
    second = make_org(user=user, role="member", short_name="Б")
    foreign = make_org()
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    assert current_membership(request).organization == first
    switch_organization(request, second.pk)
    assert request.session[SESSION_KEY] == second.pk
    assert current_membership(request).organization == second
    assert not current_membership(request).can_manage
    with pytest.raises(Http404):
        switch_organization(request, foreign.pk)


@pytest.mark.django_db
def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_russian_by_default_english_only_when_chosen(client):
    english_browser = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Электронная почта" in english_browser.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Электронная почта" not in client.get("/login/").content.decode()
