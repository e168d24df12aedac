"""Online payment under real concurrency (PostgreSQL): one attempt, one credit."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from podpiska.billing.actions import place_order
from podpiska.billing.models import OnlinePayment, Order, Payment
from podpiska.billing.online import start_online_payment
from podpiska.core import clock
from podpiska.subscriptions.models import Subscription
from tests.billing.fake_yookassa import fake_yookassa_fixture  # noqa: F401
from tests.concurrency import run_threads
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_subscription, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def order():
    clock.freeze(NOW)
    tariffs = catalog()
    owner = make_user()
    org = make_org(user=owner)
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    yield place_order(
        organization=org,
        user=owner,
        kind="renew",
        payment_method="online",
        idempotency_key="k",
        tariff=tariffs["200"],
    )
    clock.reset()


def test_concurrent_starts_make_one_attempt_and_one_provider_payment(order, fake_yookassa):
    results, errors = run_threads(
        6, lambda i: start_online_payment(order, return_url="http://testserver/settings/")
    )
    assert not errors, errors
    assert len(set(results)) == 1
    attempt = OnlinePayment.objects.get()
    assert {sent.headers["Idempotence-Key"] for sent in fake_yookassa.posts()} == {
        attempt.idempotence_key
    }
    assert len(fake_yookassa.payments) == 1


def test_concurrent_success_notifications_credit_once(order, fake_yookassa):
    start_online_payment(order, return_url="http://testserver/settings/")
    attempt = OnlinePayment.objects.get()
    fake_yookassa.succeed(attempt.external_id)
    body = json.dumps(
        {
            "type": "notification",
            "event": "payment.succeeded",
            "object": {"id": attempt.external_id, "status": "succeeded"},
        }
    )

    results, errors = run_threads(
        6,
        lambda i: (
            Client()
            .post(
                "/billing/online/yookassa/notifications/",
                data=body,
                content_type="application/json",
                REMOTE_ADDR="185.71.76.5",
            )
            .status_code
        ),
    )
    assert not errors, errors
    assert results == [200] * 6
    assert Payment.objects.count() == 1
    assert Subscription.objects.filter(order=order).count() == 1
    assert Order.objects.get().status == "fulfilled"
