"""The header's organization menu: gauge, summary, actions by state, warning, switcher."""

from datetime import timedelta

from django.urls import reverse

from podpiska.billing.actions import place_order
from podpiska.subscriptions.models import QuotaPeriod
from tests.conftest import NOW
from tests.factories import make_org, make_subscription


def menu_html(client) -> str:
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_paid_menu_shows_gauge_summary_and_both_actions(signed_in, paid_org):
    html = menu_html(signed_in)
    assert str(paid_org) in html
    assert "8\u00a0740 / 10\u00a0000" in html or "8 740 / 10 000" in html
    assert "gauge-high" not in html and "gauge-warn" in html  # 87 %: yellow
    assert "Компас 200" in html
    assert "действует до 06.12.2026 включительно" in html
    assert 'data-testid="menu-renew"' in html and 'data-testid="menu-upgrade"' in html
    assert "1\u00a0260" in html or "1 260" in html  # exports left


def test_maximum_tariff_has_no_upgrade(signed_in, tariffs, org, clock):
    make_subscription(org, tariffs["max"], NOW - timedelta(days=60), used=41_200)
    html = menu_html(signed_in)
    assert 'data-testid="menu-renew"' in html
    assert 'data-testid="menu-upgrade"' not in html
    assert "gauge-ok" in html


def test_free_menu_has_only_summary_and_settings_link(signed_in, tariffs, org, clock):
    html = menu_html(signed_in)
    assert "Бесплатный" in html
    assert "0 / 50" in html
    assert "menu-renew" not in html and "menu-upgrade" not in html
    assert reverse("web:settings") in html
    # Looking at the page never creates the quota period.
    assert not QuotaPeriod.objects.filter(organization=org).exists()


def test_member_sees_state_but_no_buying_actions(member_client, paid_org):
    html = menu_html(member_client)
    assert "Компас 200" in html
    assert "menu-renew" not in html and "menu-upgrade" not in html


def test_warning_dot_and_text_with_last_day_to_pay_by_transfer(signed_in, paid_org):
    html = menu_html(signed_in)
    assert 'data-testid="warning-dot"' in html
    # Last day 06.12.2026 (Sunday); three business days back: 02.12.2026 (Wednesday).
    assert "Подписка заканчивается 06.12.2026. Чтобы оплатить счётом вовремя, оплатите до 02.12.2026" in html


def test_pending_renewal_shows_awaiting_payment(signed_in, owner, paid_org, tariffs):
    place_order(organization=paid_org, user=owner, kind="renew", payment_method="invoice",
                idempotency_key="k1", tariff=tariffs["200"])
    html = menu_html(signed_in)
    assert "ожидает оплаты" in html
    assert "Продление ожидает оплаты" in html
    assert 'data-testid="pending-order"' in html


def test_no_warning_far_from_the_end(signed_in, tariffs, org, clock):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=30))
    assert 'data-testid="warning-dot"' not in menu_html(signed_in)


def test_switch_organization(signed_in, owner, paid_org):
    second = make_org(user=owner, role="admin", short_name="ООО «Второе»")
    html = menu_html(signed_in)
    assert "ООО «Второе»" in html
    response = signed_in.post(reverse("web:switch_org"), {"organization": second.pk, "next": "/settings/"})
    assert response.status_code == 302 and response["Location"] == "/settings/"
    assert "ООО «Второе»" in menu_html(signed_in).split('class="orgmenu-name">')[1][:40]


def test_switch_to_a_foreign_organization_is_404(signed_in, paid_org, other_org):
    response = signed_in.post(reverse("web:switch_org"), {"organization": other_org.pk})
    assert response.status_code == 404


def test_menu_queries_do_not_grow_with_rows(signed_in, owner, paid_org, tariffs, django_assert_max_num_queries):
    with django_assert_max_num_queries(30) as few:
        menu_html(signed_in)
    baseline = len(few.captured_queries)
    # More organizations, orders and past subscriptions: the same number of queries.
    for n in range(4):
        make_org(user=owner, role="member")
        place_order(organization=paid_org, user=owner, kind="renew", payment_method="invoice",
                    idempotency_key=f"q{n}", tariff=tariffs["200"])
        make_subscription(paid_org, tariffs["100"], NOW - timedelta(days=2000 - 400 * n))
    with django_assert_max_num_queries(baseline):
        menu_html(signed_in)
    print(f"menu page: {baseline} queries")
