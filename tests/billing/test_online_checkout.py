"""The whole online loop through the customer's pages: checkout → sandbox → return → paid."""

from datetime import timedelta

from django.test import Client

from podpiska.accounts.models import Membership
from podpiska.billing.models import OnlinePayment, Order, OrderStatus, Payment
from podpiska.subscriptions.models import Subscription
from tests.conftest import NOW
from tests.factories import make_org, make_subscription, make_user


def test_checkout_online_pays_in_the_sandbox_and_lands_on_settings(clock, tariffs, org, owner):
    current = make_subscription(org, tariffs["200"], NOW - timedelta(days=300), used=5_000)
    client = Client()
    client.force_login(owner)
    form = {
        **{k: v or "" for k, v in org.requisites().items()},
        "payment_method": "online",
        "idempotency_key": "checkout-1",
        "tariff": "200",
    }

    placed = client.post("/buy/renew/checkout/", form)
    attempt = OnlinePayment.objects.get()
    assert placed.status_code == 302 and placed["Location"] == f"/billing/sandbox/{attempt.pk}/"
    assert (
        client.post("/buy/renew/checkout/", form)["Location"] == placed["Location"]
    )  # double submit

    paid = client.post(placed["Location"], {"action": "pay"}, follow=True)
    assert paid.redirect_chain[-1] == ("/settings/", 302)
    order = Order.objects.get()
    assert order.status == OrderStatus.FULFILLED and Payment.objects.get().order == order
    assert Subscription.objects.get(order=order).starts_at == current.ends_at


def pay_online_url(order):
    return f"/billing/orders/{order.pk}/pay-online/"


def test_pay_online_button_resumes_or_restarts_and_refuses_clearly(
    clock, tariffs, org, owner, order_for
):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    order = order_for(org, owner, tariff=tariffs["200"], method="online")
    client = Client()
    client.force_login(owner)

    first = client.post(pay_online_url(order))
    assert first.status_code == 302 and first["Location"].startswith("/billing/sandbox/")
    assert client.post(pay_online_url(order))["Location"] == first["Location"]
    client.post(first["Location"], {"action": "refuse"})
    retry = client.post(pay_online_url(order), HTTP_HX_REQUEST="true")
    assert retry.status_code == 204 and retry["HX-Redirect"] != first["Location"]

    client.post(retry["HX-Redirect"], {"action": "pay"})
    done = client.post(pay_online_url(order), follow=True)
    assert done.redirect_chain == [("/settings/", 302)]
    assert "уже исполнен" in done.content.decode()
    assert Payment.objects.count() == 1


def test_pay_online_unreachable_provider_is_a_message_not_an_error_page(
    clock, tariffs, org, owner, order_for, settings
):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    order = order_for(org, owner, tariff=tariffs["200"], method="online")
    settings.PODPISKA = {**settings.PODPISKA, "ONLINE_PROVIDER": "yookassa"}
    settings.YOOKASSA = {
        **settings.YOOKASSA,
        "API_URL": "http://127.0.0.1:9/v3/",
        "SHOP_ID": "1",
        "SECRET_KEY": "k",
    }
    client = Client()
    client.force_login(owner)
    response = client.post(pay_online_url(order), follow=True)
    assert response.redirect_chain == [("/settings/", 302)]
    assert "Не удалось связаться с ЮKassa" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_pay_online_is_for_the_orders_own_managers_only(clock, tariffs, org, owner, order_for):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    order = order_for(org, owner, tariff=tariffs["200"], method="online")
    stranger = make_user()
    make_org(user=stranger)
    member = make_user()
    Membership.objects.create(user=member, organization=org, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(stranger)
    assert client.post(pay_online_url(order)).status_code == 404
    client.force_login(member)
    assert client.post(pay_online_url(order)).status_code == 403
    assert client.get(pay_online_url(order)).status_code == 405
    assert not OnlinePayment.objects.exists()
