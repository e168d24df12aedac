"""The whole online loop through the customer's pages: checkout → sandbox → return → paid."""

from datetime import timedelta

from django.test import Client

from podpiska.billing.models import OnlinePayment, Order, OrderStatus, Payment
from podpiska.subscriptions.models import Subscription
from tests.conftest import NOW
from tests.factories import make_subscription


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
