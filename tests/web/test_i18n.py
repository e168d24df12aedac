"""Russian by default, English as a translation; the catalogues are compiled."""

import re
from pathlib import Path

from django.urls import reverse

LOCALE = Path(__file__).resolve().parents[2] / "src" / "podpiska" / "locale"
CUSTOMER_SOURCES = ("templates/web/", "templates/support/", "templates/base.html", "web/", "support/views.py")


def test_english_translation_of_the_menu_and_settings(signed_in, paid_org):
    signed_in.cookies["django_language"] = "en"
    html = signed_in.get(reverse("web:settings")).content.decode()
    assert "Renew subscription" in html and "Upgrade subscription" in html
    assert "Organization settings" in html and "All tariffs" in html
    assert "The subscription ends on 06.12.2026. To pay by invoice in time, pay by 02.12.2026" in html
    assert "Продлить подписку" not in html


def test_russian_by_default(signed_in, paid_org):
    html = signed_in.get(reverse("web:settings")).content.decode()
    assert "Продлить подписку" in html and 'lang="ru"' in html


def test_every_customer_string_has_an_english_translation_and_is_compiled():
    po = (LOCALE / "en" / "LC_MESSAGES" / "django.po").read_text()
    missing = []
    for block in po.split("\n\n"):
        refs = " ".join(re.findall(r"^#: (.*)$", block, re.M))
        if not any(src in refs for src in CUSTOMER_SOURCES):
            continue
        if re.search(r'^msgstr(\[\d\])? ""\n(?!")', block + "\n", re.M) or "#, fuzzy" in block:
            missing.append(block)
    assert not missing, "\n\n".join(missing)
    for language in ("en", "ru"):
        mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
        assert mo.stat().st_mtime >= (LOCALE / language / "LC_MESSAGES" / "django.po").stat().st_mtime - 1


SETLANG = "/i18n/setlang/"


def test_language_choice_is_stored_on_the_user_and_follows_them_to_another_browser(
    client, owner, paid_org
):
    from django.test import Client

    from podpiska.audit.models import AuditRecord

    client.force_login(owner)
    response = client.post(SETLANG, {"language": "en", "next": reverse("web:settings")})
    assert response.status_code == 302 and response["Location"] == reverse("web:settings")
    owner.refresh_from_db()
    assert owner.language == "en"
    assert AuditRecord.objects.filter(action="user.language_changed", object_id=str(owner.pk)).count() == 1

    other_browser = Client()
    other_browser.force_login(owner)
    response = other_browser.get(reverse("web:settings"))
    html = response.content.decode()
    assert "Renew subscription" in html and 'lang="en"' in html
    # ...and that browser remembers it after signing out.
    assert response.cookies["django_language"].value == "en"

    # Choosing the same language again changes nothing.
    client.post(SETLANG, {"language": "en", "next": "/"})
    assert AuditRecord.objects.filter(action="user.language_changed").count() == 1


def test_stored_language_wins_over_this_browsers_cookie(client, owner, paid_org):
    owner.language = "ru"
    owner.save()
    client.force_login(owner)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("web:settings")).content.decode()
    assert "Продлить подписку" in html and 'lang="ru"' in html


def test_switching_back_to_russian_is_stored_too(client, owner, paid_org):
    client.force_login(owner)
    client.post(SETLANG, {"language": "en", "next": "/"})
    client.post(SETLANG, {"language": "ru", "next": "/"})
    owner.refresh_from_db()
    assert owner.language == "ru"
    assert "Продлить подписку" in client.get(reverse("web:settings")).content.decode()


def test_unknown_or_hostile_language_writes_nothing(client, owner, paid_org):
    from podpiska.audit.models import AuditRecord

    client.force_login(owner)
    for bad in ("de", "x" * 1_000_000, "en\x00", ""):
        response = client.post(SETLANG, {"language": bad, "next": "/"})
        assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.language == ""
    assert not AuditRecord.objects.filter(action="user.language_changed").exists()
    assert "Продлить подписку" in client.get(reverse("web:settings")).content.decode()


def test_anonymous_choice_lives_in_the_browser_only(client, owner):
    response = client.post(SETLANG, {"language": "en", "next": "/login/"})
    assert response.cookies["django_language"].value == "en"
    assert "Log in" in client.get("/login/").content.decode()
    owner.refresh_from_db()
    assert owner.language == ""


def test_a_new_user_sees_russian_in_a_fresh_browser(client, owner, paid_org):
    client.force_login(owner)
    response = client.get(reverse("web:settings"))
    assert 'lang="ru"' in response.content.decode()
    assert "django_language" not in response.cookies
