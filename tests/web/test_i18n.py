"""Russian by default, English as a translation; the catalogues are compiled."""

import gettext
import re
from pathlib import Path

from django.urls import reverse

LOCALE = Path(__file__).resolve().parents[2] / "src" / "podpiska" / "locale"
CUSTOMER_SOURCES = ("templates/web/", "templates/support/", "templates/base.html", "web/", "support/views.py", "support/forms.py")


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


def po_entries(language: str) -> list[dict]:
    """The catalogue's live entries: msgid, msgid_plural, msgstr / msgstr[n] and flags."""
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        if "#~ " in block:  # obsolete: not compiled
            continue
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            head = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if head:
                key = head.group(1)
                fields[key] = head.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            # PO escapes (\n, \", \\) over UTF-8 text.
            decoded = {k: v.encode().decode("unicode_escape").encode("latin-1").decode() for k, v in fields.items()}
            decoded["fuzzy"] = bool(re.search(r"^#,.*\bfuzzy\b", block, re.M))
            decoded["refs"] = " ".join(re.findall(r"^#: (.*)$", block, re.M))
            entries.append(decoded)
    return entries


def test_every_english_message_is_translated():
    """Customer and staff interfaces, messages and e-mails: nothing empty, nothing fuzzy."""
    missing = [
        f"{entry['refs']}: {entry['msgid']!r}"
        for entry in po_entries("en")
        if entry["fuzzy"] or any(v == "" for k, v in entry.items() if k.startswith("msgstr"))
    ]
    assert not missing, "untranslated in locale/en:\n" + "\n".join(missing)


def test_russian_plurals_have_every_form():
    # Russian is the source language, but a plural message needs its three (and Django's
    # fourth, fractional) forms in the catalogue: the msgid alone reads «Осталось 2 дней».
    for entry in po_entries("ru"):
        if "msgid_plural" in entry:
            forms = [entry.get(f"msgstr[{i}]", "") for i in range(4)]
            assert all(forms) and not entry["fuzzy"], entry["msgid"]


def test_compiled_catalogues_match_the_sources():
    """The committed .mo files are what the .po files say (demo and CI use them as they are)."""
    for language in ("en", "ru"):
        with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as mo:
            compiled = gettext.GNUTranslations(mo)
        for entry in po_entries(language):
            if entry["fuzzy"] or "msgctxt" in entry:
                continue
            if "msgid_plural" in entry:
                for n, form in ((1, "msgstr[0]"), (5, "msgstr[1]" if language == "en" else "msgstr[2]")):
                    if entry.get(form):
                        assert compiled.ngettext(entry["msgid"], entry["msgid_plural"], n) == entry[form], entry["msgid"]
            elif entry.get("msgstr"):
                assert compiled.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]


def test_checkout_errors_follow_the_language(signed_in, paid_org):
    """Messages raised by the domain code are in the page's language, too."""
    signed_in.cookies["django_language"] = "en"
    response = signed_in.post(
        reverse("web:checkout", args=["renew"]),
        {"tariff": "200", "idempotency_key": "k" * 32, "payment_method": "invoice",
         "name": "ООО «Тест»", "short_name": "ООО «Тест»", "inn": "12345", "kpp": "",
         "ogrn": "", "address": "Москва", "email": "not-an-address"},
    )
    html = response.content.decode()
    assert "INN must have 10 or 12 digits, not 5" in html
    assert "E-mail for documents: invalid address" in html
    assert "ИНН должен" not in html


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


def test_language_chosen_on_the_login_page_is_kept_on_signing_in(client, owner, paid_org):
    client.post(SETLANG, {"language": "en", "next": "/login/"})
    response = client.post("/login/", {"username": owner.email, "password": "secret-pass"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.language == "en"


def test_signing_in_from_a_browser_with_another_language_keeps_the_stored_one(client, owner, paid_org):
    owner.language = "ru"
    owner.save()
    client.cookies["django_language"] = "en"
    client.post("/login/", {"username": owner.email, "password": "secret-pass"})
    owner.refresh_from_db()
    assert owner.language == "ru"
    assert "Продлить подписку" in client.get(reverse("web:settings")).content.decode()


def test_signing_in_without_a_choice_stores_nothing(client, owner, paid_org):
    client.post("/login/", {"username": owner.email, "password": "secret-pass"})
    owner.refresh_from_db()
    assert owner.language == ""


def test_profile_offers_the_language_and_marks_the_current_one(client, owner, paid_org):
    client.force_login(owner)
    html = client.get(reverse("web:profile")).content.decode()
    form = html.split('data-testid="language-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="ru" lang="ru" class="btn primary" aria-pressed="true"' in form
    assert 'value="en" lang="en" class="btn" aria-pressed="false"' in form
    client.post(SETLANG, {"language": "en", "next": reverse("web:profile")})
    html = client.get(reverse("web:profile")).content.decode()
    assert "Interface language" in html and "Invoices and UPDs are always in Russian." in html
    assert 'value="en" lang="en" class="btn primary" aria-pressed="true"' in html
