"""«Подписка закончилась» on the home page and in the menu, with «Возобновить», until the
organization pays or hides it for 30 days."""

from datetime import timedelta

import pytest
from django.urls import reverse

from podpiska.accounts.actions import hide_lapsed_notice
from podpiska.audit.models import AuditRecord
from tests.conftest import NOW
from tests.factories import make_subscription

TEXT = "Подписка «Компас 100» закончилась 31.10.2026. Сейчас действует бесплатный тариф."


@pytest.fixture
def lapsed_org(tariffs, org, clock):
    make_subscription(org, tariffs["100"], NOW - timedelta(days=400),
                      ends_at=NOW.replace(hour=0, day=1))
    return org


def test_home_and_menu_say_it_with_resume(signed_in, lapsed_org):
    html = signed_in.get(reverse("web:home")).content.decode()
    assert 'data-testid="home-lapsed"' in html and 'data-testid="menu-lapsed"' in html
    assert html.count(TEXT) == 2
    assert html.count(reverse("web:choice", args=["resume"])) >= 2


def test_hidden_for_30_days_audited_then_back(signed_in, lapsed_org, owner, clock):
    response = signed_in.post(reverse("web:hide_lapsed"), {"next": reverse("web:home")})
    assert response.status_code == 302
    assert TEXT not in signed_in.get(reverse("web:home")).content.decode()
    lapsed_org.refresh_from_db()
    assert lapsed_org.lapsed_notice_hidden_until == NOW.date() + timedelta(days=30)
    record = AuditRecord.objects.get(action="organization.lapsed_notice_hidden")
    assert record.actor == owner
    # Hiding again the same day writes nothing more.
    hide_lapsed_notice(lapsed_org, actor=owner)
    assert AuditRecord.objects.filter(action="organization.lapsed_notice_hidden").count() == 1
    clock.shift(timedelta(days=29))
    assert TEXT not in signed_in.get(reverse("web:home")).content.decode()
    clock.shift(timedelta(days=1))
    assert TEXT in signed_in.get(reverse("web:home")).content.decode()


def test_gone_once_paid(signed_in, lapsed_org, tariffs):
    make_subscription(lapsed_org, tariffs["100"], NOW)
    assert "закончилась" not in signed_in.get(reverse("web:home")).content.decode()


def test_not_for_a_never_paid_organization(signed_in, tariffs, org, clock):
    assert 'lapsed' not in signed_in.get(reverse("web:home")).content.decode()


def test_member_sees_it_but_cannot_hide_it(member_client, tariffs, paid_org, clock):
    paid_org.subscriptions.update(ends_at=NOW - timedelta(days=1), starts_at=NOW - timedelta(days=300))
    html = member_client.get(reverse("web:home")).content.decode()
    assert "закончилась" in html and reverse("web:hide_lapsed") not in html
    assert member_client.post(reverse("web:hide_lapsed")).status_code == 403
    paid_org.refresh_from_db()
    assert paid_org.lapsed_notice_hidden_until is None


def test_hide_refuses_get(signed_in, lapsed_org):
    assert signed_in.get(reverse("web:hide_lapsed")).status_code == 405


def test_hiding_without_a_notice_writes_nothing(signed_in, paid_org):
    assert signed_in.post(reverse("web:hide_lapsed")).status_code == 302
    paid_org.refresh_from_db()
    assert paid_org.lapsed_notice_hidden_until is None
    assert not AuditRecord.objects.filter(action="organization.lapsed_notice_hidden").exists()
