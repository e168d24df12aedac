"""The YooKassa adapter against a local server that speaks YooKassa's API (never the real one)."""

import json
import socket
from datetime import timedelta

import pytest
from django.test import Client

from podpiska.billing import online
from podpiska.billing.models import (
    OnlinePayment,
    OnlinePaymentStatus,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentState,
    QueueReason,
)
from podpiska.billing.online import refresh_online_payment, start_online_payment
from podpiska.billing.providers import yookassa
from podpiska.billing.providers.base import ProviderError, description_of
from podpiska.subscriptions.models import Subscription
from tests.billing.fake_yookassa import fake_yookassa_fixture  # noqa: F401
from tests.conftest import NOW
from tests.factories import make_org, make_subscription, make_user

RETURN_TO = "http://testserver/settings/"
NOTIFY = "/billing/online/yookassa/notifications/"
YOOKASSA_IP = "185.71.76.5"


@pytest.fixture
def order(tariffs, org, owner, order_for):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300), used=5_000)
    return order_for(org, owner, tariff=tariffs["200"], method=PaymentMethod.ONLINE)


@pytest.fixture
def attempt(order, fake_yookassa):
    start_online_payment(order, return_url=RETURN_TO)
    return OnlinePayment.objects.get(order=order)


def notify(payment_id, event="payment.succeeded", status="succeeded", ip=YOOKASSA_IP, **extra):
    body = {
        "type": "notification",
        "event": event,
        "object": {
            "id": payment_id,
            "status": status,
            "paid": status == "succeeded",
            "amount": {"value": "1.00", "currency": "RUB"},
        },
    }
    return Client().post(
        NOTIFY, data=json.dumps(body), content_type="application/json", REMOTE_ADDR=ip, **extra
    )


def nothing_paid(order):
    order.refresh_from_db()
    return (
        order.status == OrderStatus.AWAITING_PAYMENT
        and not Payment.objects.exists()
        and not Subscription.objects.filter(order=order).exists()
    )


def test_create_payment_sends_the_documented_request(order, fake_yookassa):
    url = start_online_payment(order, return_url=RETURN_TO)

    attempt = OnlinePayment.objects.get(order=order)
    [sent] = fake_yookassa.posts()
    assert (
        url
        == attempt.confirmation_url
        == fake_yookassa.payments[attempt.external_id]["confirmation"]["confirmation_url"]
    )
    assert sent.path == "/v3/payments"
    assert sent.headers["Idempotence-Key"] == attempt.idempotence_key
    assert len(attempt.idempotence_key) <= 64  # YooKassa's limit
    assert sent.headers["Authorization"].startswith("Basic ")
    body = sent.body
    assert body["amount"] == {"value": "134400.00", "currency": "RUB"}
    assert body["capture"] is True
    assert body["confirmation"] == {
        "type": "redirect",
        "return_url": f"http://testserver/billing/online/return/{attempt.pk}/?next=%2Fsettings%2F",
    }
    assert body["description"] == f"Заказ № {order.pk}: тариф «Компас 200»"
    assert body["metadata"] == {"order_id": str(order.pk), "online_payment_id": str(attempt.pk)}
    receipt = body["receipt"]
    assert receipt["customer"]["inn"] == order.organization.inn
    assert receipt["customer"]["email"] == order.organization.email
    [item] = receipt["items"]
    assert item["amount"] == body["amount"] and item["quantity"] == "1.00"
    assert (item["vat_code"], item["payment_mode"], item["payment_subject"]) == (
        11,
        "full_payment",
        "service",
    )
    assert item["description"].startswith("Доступ к сервису, тариф «Компас 200», 12 мес., с ")
    assert (attempt.status, attempt.amount, attempt.provider) == (
        OnlinePaymentStatus.PENDING,
        order.price,
        "yookassa",
    )


def test_seller_without_vat_sends_vat_code_1(order, fake_yookassa, settings):
    settings.PODPISKA_SELLER = {**settings.PODPISKA_SELLER, "vat_rate": None}
    start_online_payment(order, return_url=RETURN_TO)
    assert fake_yookassa.posts()[0].body["receipt"]["items"][0]["vat_code"] == 1


def test_public_return_url_setting_replaces_the_request_host(order, fake_yookassa, settings):
    settings.YOOKASSA = {**settings.YOOKASSA, "RETURN_URL": "https://pay.example.ru"}
    start_online_payment(order, return_url="http://10.0.0.5:8000/settings/")
    assert (
        fake_yookassa.posts()[0]
        .body["confirmation"]["return_url"]
        .startswith("https://pay.example.ru/billing/online/return/")
    )


def test_repeated_start_reuses_the_attempt_and_its_payment(order, fake_yookassa):
    first = start_online_payment(order, return_url=RETURN_TO)
    second = start_online_payment(order, return_url=RETURN_TO)
    assert first == second
    assert OnlinePayment.objects.filter(order=order).count() == 1
    assert len(fake_yookassa.posts()) == 1


def test_retry_after_a_server_error_sends_the_same_key_and_gets_one_payment(order, fake_yookassa):
    fake_yookassa.fail_next(500)
    with pytest.raises(ProviderError, match="Не удалось связаться с ЮKassa"):
        start_online_payment(order, return_url=RETURN_TO)
    start_online_payment(order, return_url=RETURN_TO)

    keys = {sent.headers["Idempotence-Key"] for sent in fake_yookassa.posts()}
    attempt = OnlinePayment.objects.get(order=order)
    assert keys == {attempt.idempotence_key} and len(fake_yookassa.posts()) == 2
    # YooKassa's promise the adapter relies on: the same key returns the same payment.
    again = yookassa.YooKassaProvider().request_payment(attempt, return_url=RETURN_TO)
    assert again.external_id == attempt.external_id and len(fake_yookassa.payments) == 1


def test_wrong_credentials_are_a_clear_refusal(order, fake_yookassa, settings):
    settings.YOOKASSA = {**settings.YOOKASSA, "SECRET_KEY": "wrong"}
    with pytest.raises(ProviderError, match="ЮKassa отклонила платёж"):
        start_online_payment(order, return_url=RETURN_TO)
    assert OnlinePayment.objects.get(order=order).external_id == ""


def test_unconfigured_shop_is_a_clear_refusal(order, fake_yookassa, settings):
    settings.YOOKASSA = {**settings.YOOKASSA, "SHOP_ID": ""}
    with pytest.raises(ProviderError, match="не настроена"):
        start_online_payment(order, return_url=RETURN_TO)
    assert fake_yookassa.requests == []


def test_unreachable_and_silent_servers_raise_provider_error(
    order, fake_yookassa, settings, monkeypatch
):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never answers
    monkeypatch.setattr(yookassa, "TIMEOUT_SECONDS", 0.3)
    try:
        settings.YOOKASSA = {
            **settings.YOOKASSA,
            "API_URL": f"http://127.0.0.1:{silent.getsockname()[1]}/v3/",
        }
        with pytest.raises(ProviderError, match="не ответила вовремя"):
            start_online_payment(order, return_url=RETURN_TO)
    finally:
        silent.close()
    with pytest.raises(ProviderError, match="Не удалось связаться"):
        start_online_payment(order, return_url=RETURN_TO)
    assert nothing_paid(order)


def test_forged_success_notification_fulfils_nothing_while_the_api_says_pending(
    attempt, order, fake_yookassa
):
    response = notify(attempt.external_id)
    assert response.status_code == 200
    assert fake_yookassa.requests[-1].method == "GET"
    assert fake_yookassa.requests[-1].path == f"/v3/payments/{attempt.external_id}"
    attempt.refresh_from_db()
    assert attempt.status == OnlinePaymentStatus.PENDING
    assert nothing_paid(order)


def test_notification_from_a_foreign_address_is_refused_and_changes_nothing(
    attempt, order, fake_yookassa
):
    fake_yookassa.succeed(attempt.external_id)
    seen = len(fake_yookassa.requests)
    assert notify(attempt.external_id, ip="203.0.113.7").status_code == 403
    assert len(fake_yookassa.requests) == seen  # not even re-fetched
    attempt.refresh_from_db()
    assert attempt.status == OnlinePaymentStatus.PENDING
    assert nothing_paid(order)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"type": "notification"}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": 5}}',
    ],
)
def test_bad_notification_body_is_400(attempt, order, fake_yookassa, body):
    fake_yookassa.succeed(attempt.external_id)
    response = Client().post(
        NOTIFY, data=body, content_type="application/json", REMOTE_ADDR=YOOKASSA_IP
    )
    assert response.status_code == 400
    assert nothing_paid(order)


def test_succeeded_notification_delivered_three_times_fulfils_once(attempt, order, fake_yookassa):
    fake_yookassa.succeed(attempt.external_id)
    assert [notify(attempt.external_id).status_code for _ in range(3)] == [200, 200, 200]

    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    payment = Payment.objects.get()
    assert (payment.source, payment.state, payment.amount) == (
        "online",
        PaymentState.APPLIED,
        order.price,
    )
    assert payment.dedup_key == f"yookassa:{attempt.external_id}"
    assert payment.provider_payment_id == attempt.external_id and payment.order == order
    assert Subscription.objects.filter(order=order).count() == 1
    attempt.refresh_from_db()
    assert attempt.status == OnlinePaymentStatus.SUCCEEDED


def test_canceled_payment_closes_the_attempt_and_a_retry_starts_a_new_one(
    attempt, order, fake_yookassa
):
    fake_yookassa.cancel(attempt.external_id)
    assert (
        notify(attempt.external_id, event="payment.canceled", status="canceled").status_code == 200
    )
    attempt.refresh_from_db()
    assert attempt.status == OnlinePaymentStatus.CANCELED
    assert nothing_paid(order)

    start_online_payment(order, return_url=RETURN_TO)
    retry = OnlinePayment.objects.filter(order=order).exclude(pk=attempt.pk).get()
    assert retry.idempotence_key != attempt.idempotence_key
    assert retry.external_id != attempt.external_id and retry.status == OnlinePaymentStatus.PENDING


def test_notification_for_an_unknown_payment_is_acknowledged_and_ignored(
    attempt, order, fake_yookassa
):
    assert notify("2f0b0c1e-000f-5000-9000-1d5e1a2b3c4d").status_code == 200
    assert notify(attempt.external_id, event="refund.succeeded").status_code == 200
    assert nothing_paid(order)


def test_failed_refetch_asks_yookassa_to_deliver_again(attempt, order, fake_yookassa):
    fake_yookassa.succeed(attempt.external_id)
    fake_yookassa.fail_next(500)
    assert notify(attempt.external_id).status_code == 503
    assert nothing_paid(order)
    assert notify(attempt.external_id).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED


def test_forwarded_for_is_trusted_only_when_configured_and_only_its_rightmost_hop(
    attempt, order, fake_yookassa, settings
):
    fake_yookassa.cancel(attempt.external_id)
    proxy = "10.0.0.2"
    forged = {"HTTP_X_FORWARDED_FOR": f"{YOOKASSA_IP}"}
    assert notify(attempt.external_id, ip=proxy, **forged).status_code == 403
    settings.YOOKASSA_TRUST_X_FORWARDED_FOR = True
    spoofed_left = {"HTTP_X_FORWARDED_FOR": f"{YOOKASSA_IP}, 198.51.100.4"}
    assert notify(attempt.external_id, ip=proxy, **spoofed_left).status_code == 403
    appended = {"HTTP_X_FORWARDED_FOR": f"198.51.100.4, {YOOKASSA_IP}"}
    assert notify(attempt.external_id, ip=proxy, **appended).status_code == 200


@pytest.mark.parametrize(
    "address, allowed",
    [
        ("185.71.76.31", True),
        ("185.71.76.32", False),
        ("77.75.156.11", True),
        ("77.75.156.12", False),
        ("2a02:5180:0:1509::17", True),
        ("2a02:5180:0:1510::1", False),
        ("::ffff:185.71.77.3", True),
        ("not-an-ip", False),
        ("", False),
    ],
)
def test_sender_address_allow_list(settings, address, allowed):
    assert (
        yookassa.address_allowed(address, settings.YOOKASSA["NOTIFICATION_ALLOWED_IPS"]) is allowed
    )


def test_amount_that_does_not_match_the_order_is_recorded_for_staff_not_lost(
    attempt, order, fake_yookassa
):
    fake_yookassa.succeed(attempt.external_id, amount={"value": "1000.00", "currency": "RUB"})
    refresh_online_payment(attempt)
    refresh_online_payment(attempt)

    payment = Payment.objects.get()
    assert (payment.state, payment.queue_reason, payment.amount) == (
        PaymentState.QUEUED,
        QueueReason.NO_MATCH,
        1000_00,
    )
    assert payment.order is None and payment.organization == order.organization
    assert payment.suggestions == [{"order_id": order.pk, "online_payment_id": attempt.pk}]
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_foreign_metadata_is_recorded_for_staff(attempt, order, fake_yookassa):
    fake_yookassa.succeed(
        attempt.external_id, metadata={"order_id": "999999", "online_payment_id": str(attempt.pk)}
    )
    refresh_online_payment(attempt)
    payment = Payment.objects.get()
    assert payment.state == PaymentState.QUEUED and payment.order is None
    assert "999999" in payment.note


def test_return_page_refetches_and_lands_on_settings(attempt, order, owner, fake_yookassa):
    client = Client()
    client.force_login(owner)
    url = f"/billing/online/return/{attempt.pk}/?next=/settings/"

    pending = client.get(url)
    assert pending.status_code == 200 and "ещё обрабатывается" in pending.content.decode()

    fake_yookassa.succeed(attempt.external_id)
    done = client.get(url, follow=True)
    assert done.redirect_chain[0] == ("/settings/", 302)
    assert f"заказ № {order.pk} исполнен" in done.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED and Payment.objects.count() == 1


def test_return_page_never_redirects_off_site_and_hides_other_organizations(
    attempt, owner, fake_yookassa
):
    fake_yookassa.cancel(attempt.external_id)
    client = Client()
    client.force_login(owner)
    response = client.get(f"/billing/online/return/{attempt.pk}/?next=https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/settings/"

    stranger = make_user()
    make_org(user=stranger)
    client.force_login(stranger)
    assert client.get(f"/billing/online/return/{attempt.pk}/").status_code == 404


def test_get_provider_refuses_unknown_names(settings):
    settings.PODPISKA = {**settings.PODPISKA, "ONLINE_PROVIDER": "paypal"}
    with pytest.raises(ProviderError):
        online.get_provider()


def test_description_fits_yookassas_128_characters(order):
    order.tariff_name = "Компас " + "Очень длинное название " * 10
    text = description_of(order)
    assert (
        len(text) == 128
        and text.startswith(f"Заказ № {order.pk}: тариф «Компас ")
        and text.endswith("…")
    )
