"""The sandbox provider: the local «Оплатить» / «Отказаться» page, and where it may run."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from podpiska.accounts.models import Membership
from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import OrderRefused, cancel_order
from podpiska.billing.models import (
    OnlinePayment,
    OnlinePaymentStatus,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from podpiska.billing.online import (
    get_provider,
    refresh_pending_online_payments,
    sandbox_allowed,
    start_online_payment,
)
from podpiska.billing.providers.base import ProviderError
from podpiska.core.demo_database import mark_demo_database
from podpiska.subscriptions.models import Subscription
from tests.conftest import NOW
from tests.factories import make_org, make_subscription, make_user

RETURN_TO = "http://testserver/settings/"


@pytest.fixture
def current(tariffs, org):
    return make_subscription(org, tariffs["200"], NOW - timedelta(days=300), used=5_000)


@pytest.fixture
def order(current, tariffs, org, owner, order_for):
    return order_for(org, owner, tariff=tariffs["200"], method=PaymentMethod.ONLINE)


@pytest.fixture
def client(owner):
    client = Client()
    client.force_login(owner)
    return client


def test_pay_fulfils_the_order_once_through_the_refresh_path(order, owner, client, current):
    url = start_online_payment(order, return_url=RETURN_TO)
    attempt = OnlinePayment.objects.get(order=order)
    assert url == f"/billing/sandbox/{attempt.pk}/" and attempt.external_id.startswith("sbx_")

    page = client.get(url)
    assert page.status_code == 200
    assert "Оплатить" in page.content.decode() and "134\u00a0400,00\u00a0₽" in page.content.decode()

    response = client.post(url, {"action": "pay"}, follow=True)
    assert [location for location, _ in response.redirect_chain] == [
        f"http://testserver/billing/online/return/{attempt.pk}/?next=%2Fsettings%2F",
        "/settings/",
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    payment = Payment.objects.get()
    assert (payment.source, payment.amount, payment.dedup_key) == (
        "online",
        order.price,
        f"sandbox:{attempt.external_id}",
    )
    assert Subscription.objects.get(order=order).starts_at == current.ends_at
    assert AuditRecord.objects.filter(action="online_payment.succeeded").count() == 1

    client.post(url, {"action": "pay"})
    client.post(url, {"action": "refuse"})
    assert Payment.objects.count() == 1 and Subscription.objects.filter(order=order).count() == 1
    attempt.refresh_from_db()
    assert attempt.status == OnlinePaymentStatus.SUCCEEDED


def test_refuse_cancels_the_attempt_and_the_order_keeps_waiting(order, client):
    url = start_online_payment(order, return_url=RETURN_TO)
    response = client.post(url, {"action": "refuse"}, follow=True)
    html = response.content.decode()
    # Shown as an error (its own colour, icon and role), not as information.
    assert re.search(r'<li class="msg msg-error" role="alert"[^>]*>.*Ошибка:.*Оплата не прошла', html, re.S)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT and not Payment.objects.exists()

    again = start_online_payment(order, return_url=RETURN_TO)
    assert again != url
    assert list(
        OnlinePayment.objects.filter(order=order).order_by("pk").values_list("status", flat=True)
    ) == [OnlinePaymentStatus.CANCELED, OnlinePaymentStatus.PENDING]


def test_double_start_reuses_the_open_attempt(order):
    assert start_online_payment(order, return_url=RETURN_TO) == start_online_payment(
        order, return_url=RETURN_TO
    )
    assert OnlinePayment.objects.filter(order=order).count() == 1


def test_a_closed_order_cannot_be_paid_online(order, owner):
    cancel_order(order, actor=owner)
    with pytest.raises(OrderRefused, match="отменён"):
        start_online_payment(order, return_url=RETURN_TO)
    assert not OnlinePayment.objects.exists()


def test_unknown_action_changes_nothing(order, client):
    url = start_online_payment(order, return_url=RETURN_TO)
    assert client.post(url, {"action": "free-money"}).status_code == 302
    assert OnlinePayment.objects.get(order=order).raw["status"] == "pending"


def test_another_organizations_user_gets_404(order):
    url = start_online_payment(order, return_url=RETURN_TO)
    stranger = make_user()
    make_org(user=stranger)
    client = Client()
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "pay"}).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_member_without_buying_rights_may_look_but_not_pay(order, org):
    url = start_online_payment(order, return_url=RETURN_TO)
    member = make_user()
    Membership.objects.create(user=member, organization=org, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(member)
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "pay"}).status_code == 403
    assert not Payment.objects.exists()


def test_anonymous_is_sent_to_login(order):
    url = start_online_payment(order, return_url=RETURN_TO)
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_buttons_need_the_csrf_token(order, owner):
    url = start_online_payment(order, return_url=RETURN_TO)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(url, {"action": "pay"}).status_code == 403
    assert not Payment.objects.exists()


def test_sandbox_is_refused_when_yookassa_is_configured(order, client, settings):
    url = start_online_payment(order, return_url=RETURN_TO)
    settings.PODPISKA = {**settings.PODPISKA, "ONLINE_PROVIDER": "yookassa"}
    assert not sandbox_allowed()
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "pay"}).status_code == 404
    with pytest.raises(ProviderError):
        get_provider("sandbox")
    assert not Payment.objects.exists()

    settings.DEBUG = True  # a developer's machine may still use it
    assert sandbox_allowed() and client.get(url).status_code == 200


def test_production_settings_never_run_the_sandbox_even_by_default(order, settings):
    # Production keeps the default provider name "sandbox" until YooKassa is configured,
    # but neither DEBUG nor a movable clock: online payment is then unavailable.
    settings.PODPISKA = {
        **settings.PODPISKA,
        "ONLINE_PROVIDER": "sandbox",
        "ALLOW_TEST_CLOCK": False,
    }
    settings.DEBUG = False
    assert not sandbox_allowed()
    with pytest.raises(ProviderError, match="недоступна"):
        start_online_payment(order, return_url=RETURN_TO)


def test_tick_settles_an_attempt_nobody_came_back_for(order, clock):
    start_online_payment(order, return_url=RETURN_TO)
    attempt = OnlinePayment.objects.get(order=order)
    get_provider("sandbox").decide(attempt, pay=True)  # paid, but the customer closed the tab

    assert refresh_pending_online_payments(clock.now()) == 0  # too fresh to poll
    clock.shift(timedelta(minutes=11))
    assert refresh_pending_online_payments(clock.now()) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED and Payment.objects.count() == 1
    assert refresh_pending_online_payments(clock.now()) == 0


def test_demo_settings_on_a_database_podpiska_demo_did_not_make_refuse_the_sandbox(
    order, client, settings
):
    # Demo settings (DEBUG, movable clock, provider "sandbox") pointed at a real
    # database: the marker row `podpiska demo` writes is missing, so nothing is «paid».
    settings.DEBUG = True
    settings.PODPISKA = {**settings.PODPISKA, "DEMO_DATABASE": "marker"}
    assert not sandbox_allowed()
    with pytest.raises(ProviderError, match="недоступна"):
        start_online_payment(order, return_url=RETURN_TO)
    assert not OnlinePayment.objects.exists() and not Payment.objects.exists()

    mark_demo_database()
    assert sandbox_allowed()
    assert start_online_payment(order, return_url=RETURN_TO).startswith("/billing/sandbox/")
