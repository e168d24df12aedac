"""The open order on the customer's screens: shown before another purchase, cancelled
from the menu, settings and its page by owners and admins only."""


import pytest
from django.urls import reverse

from podpiska.billing.actions import place_order
from podpiska.billing.models import Invoice, Order, OrderStatus
from tests.conftest import NOW
from tests.factories import make_subscription
from tests.web.test_checkout import HX, checkout_data


@pytest.fixture
def renewal(paid_org, owner, tariffs):
    return place_order(organization=paid_org, user=owner, kind="renew", payment_method="invoice",
                       idempotency_key="renew-1", tariff=tariffs["200"])


def test_another_variant_shows_the_open_order_first(signed_in, renewal):
    html = signed_in.get(reverse("web:choice", args=["upgrade"]), **HX).content.decode()
    invoice = Invoice.objects.get(order=renewal)
    assert html.index('data-testid="open-order"') < html.index("Продолжить оформление")
    assert "Продление, «Компас 200»" in html and f"счёт № {invoice.display_number}" in html
    assert reverse("billing:invoice", args=[invoice.pk]) in html  # «Оплатить»
    assert reverse("web:cancel_order", args=[renewal.pk]) in html  # «Отменить заказ»
    assert "этот будет отменён, а его счёт аннулирован" in html


def test_the_same_variant_shows_the_open_order_without_replacing_it(signed_in, renewal):
    html = signed_in.get(reverse("web:choice", args=["renew"]), **HX).content.decode()
    assert 'data-testid="open-order"' in html and "будет отменён" not in html


def test_checkout_of_the_upgrade_replaces_the_renewal(signed_in, renewal):
    data = checkout_data(signed_in, kind="upgrade", tariff="400")
    response = signed_in.post(reverse("web:checkout", args=["upgrade"]) + "?tariff=400", data, **HX)
    assert response.status_code == 200
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.CANCELLED
    assert Invoice.objects.get(order=renewal).annulled_at is not None
    assert Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT).get().kind == "upgrade"


@pytest.mark.parametrize("where", ["menu", "settings", "order"])
def test_owner_cancels_from_menu_settings_and_order_page(signed_in, renewal, where):
    page = {"menu": reverse("web:home"), "settings": reverse("web:settings"),
            "order": reverse("web:order", args=[renewal.pk])}[where]
    html = signed_in.get(page).content.decode()
    url = reverse("web:cancel_order", args=[renewal.pk])
    assert f'action="{url}"' in html
    response = signed_in.post(url, {"next": page})
    assert response.status_code == 302 and response.url == page
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.CANCELLED
    html = signed_in.get(page, follow=True).content.decode()
    assert "Заказ отменён, его счёт аннулирован." in html
    assert f'action="{url}"' not in html


def test_cancel_twice_and_a_paid_order(signed_in, renewal, owner):
    url = reverse("web:cancel_order", args=[renewal.pk])
    signed_in.post(url)
    response = signed_in.post(url, follow=True)
    assert response.status_code == 200
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.CANCELLED
    Order.objects.filter(pk=renewal.pk).update(status=OrderStatus.FULFILLED)
    html = signed_in.post(url, follow=True).content.decode()
    assert "Отменить можно только неоплаченный заказ." in html
    assert Order.objects.get(pk=renewal.pk).status == OrderStatus.FULFILLED


def test_a_member_cannot_cancel(member_client, renewal):
    assert member_client.post(reverse("web:cancel_order", args=[renewal.pk])).status_code == 403
    html = member_client.get(reverse("web:order", args=[renewal.pk])).content.decode()
    assert reverse("web:cancel_order", args=[renewal.pk]) not in html
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.AWAITING_PAYMENT


def test_another_organizations_order_is_404(client, renewal, other_org):
    client.force_login(other_org.memberships.get().user)
    assert client.get(reverse("web:order", args=[renewal.pk])).status_code == 404
    assert client.post(reverse("web:cancel_order", args=[renewal.pk])).status_code == 404
    assert client.post(reverse("web:cancel_order", args=[10**30])).status_code == 404
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.AWAITING_PAYMENT


def test_cancel_refuses_get_and_a_foreign_next(signed_in, renewal):
    url = reverse("web:cancel_order", args=[renewal.pk])
    assert signed_in.get(url).status_code == 405
    response = signed_in.post(url, {"next": "https://evil.example/"})
    assert response.url == reverse("web:order", args=[renewal.pk])


def test_menu_and_settings_list_every_scheduled_subscription(signed_in, paid_org, tariffs):
    current = paid_org.subscriptions.get()
    upgrade = make_subscription(paid_org, tariffs["400"], current.ends_at)
    make_subscription(paid_org, tariffs["200"], upgrade.ends_at)
    html = signed_in.get(reverse("web:settings")).content.decode()
    assert html.count('data-testid="menu-scheduled"') == 2
    assert "Компас 400 с 07.12.2026 по 06.12.2027" in html
    assert "Компас 200 с 07.12.2027 по 06.12.2028" in html
    assert "Оплачены следующие подписки:" in html
    # No «upgrade» to 400 when 400 is already paid for; the renewal follows the last.
    assert 'data-testid="settings-upgrade"' in html
    assert "Улучшение</h3>\n        <p>Компас Максимум" in html
    assert NOW < current.ends_at
