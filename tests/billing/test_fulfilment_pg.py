"""Concurrency on PostgreSQL: the same payment confirmed at once forms one subscription."""

from datetime import timedelta

import pytest
from django.db import connection

from podpiska.billing.actions import place_order, record_payment
from podpiska.billing.models import Order, Payment
from podpiska.core import clock
from podpiska.subscriptions.models import Subscription
from tests.concurrency import run_threads
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_subscription, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_confirmations_form_one_subscription():
    clock.freeze(NOW)
    try:
        tariffs = catalog()
        owner = make_user()
        org = make_org(user=owner)
        make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
        order = place_order(organization=org, user=owner, kind="renew", payment_method="invoice",
                            idempotency_key="k", tariff=tariffs["200"])
        results, errors = run_threads(8, lambda i: record_payment(
            source="statement", amount=order.price, received_at=NOW, dedup_key="bank-doc-1", order=order))
        assert not errors, errors
        assert sum(1 for _, created in results if created) == 1
        assert Payment.objects.count() == 1
        assert Subscription.objects.filter(organization=org).count() == 2
        assert Order.objects.get().status == "fulfilled"
    finally:
        clock.reset()


def test_concurrent_double_submit_places_one_order():
    clock.freeze(NOW)
    try:
        tariffs = catalog()
        owner = make_user()
        org = make_org(user=owner)
        results, errors = run_threads(6, lambda i: place_order(
            organization=org, user=owner, kind="default_offer", payment_method="invoice",
            idempotency_key="double-click", tariff=tariffs["400"]))
        assert not errors, errors
        assert len({o.pk for o in results}) == 1
        assert Order.objects.count() == 1
    finally:
        clock.reset()


def test_one_bank_document_entered_by_hand_twice_at_once_is_one_payment():
    """Two staff enter the same notice at the same moment, one with the bank's zeros
    («00017») and one without: the same document (billing.bank_documents), one payment."""
    from podpiska.billing.actions import confirm_manual_payment

    clock.freeze(NOW)
    try:
        tariffs = catalog()
        owner = make_user()
        org = make_org(user=owner)
        make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
        order = place_order(organization=org, user=owner, kind="renew", payment_method="invoice",
                            idempotency_key="k", tariff=tariffs["200"])
        numbers = ["17", "00017", "017", "0017"]
        results, errors = run_threads(4, lambda i: confirm_manual_payment(
            order=order, amount=order.price, doc_number=numbers[i], doc_date=NOW.date(), actor=None))
        assert not errors, errors
        assert sum(1 for _, created in results if created) == 1
        assert Payment.objects.count() == 1 and len({p.pk for p, _ in results}) == 1
        assert Subscription.objects.filter(organization=org).count() == 2
    finally:
        clock.reset()
