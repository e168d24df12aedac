"""Russian by default, English as a translation; the catalogues are compiled."""

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
