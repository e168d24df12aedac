"""The demo's bank statement: it pays every open invoice and brings one stranger."""

from datetime import timedelta

import pytest

from podpiska.billing.actions import cancel_order, place_order
from podpiska.billing.invoices import seller_today
from podpiska.billing.models import OrderStatus, Payment, PaymentState, QueueReason
from podpiska.billing.statements.importer import import_statement
from podpiska.billing.statements.parser import parse_statement
from podpiska.demo.statement import STRANGER, demo_statement
from podpiska.subscriptions.models import Subscription
from tests.conftest import NOW
from tests.factories import make_org, make_subscription, make_user

pytestmark = pytest.mark.django_db


def _renewal(org, owner, tariff, key):
    make_subscription(org, tariff, NOW - timedelta(days=355))
    return place_order(organization=org, user=owner, kind="renew", payment_method="invoice",
                       idempotency_key=key, tariff=tariff)


def test_it_pays_the_open_invoices_and_queues_the_stranger(clock, tariffs, org, owner):
    order = _renewal(org, owner, tariffs["200"], "renew-1")
    other_owner = make_user("other@example.com")
    closed = _renewal(make_org(user=other_owner), other_owner, tariffs["100"], "renew-2")
    cancel_order(closed, actor=other_owner)

    data = demo_statement(seller_today())
    assert data.decode("cp1251").startswith("1CClientBankExchange\r\n")
    documents = parse_statement(data).documents
    # The cancelled order's invoice is not open: nobody pays it.
    assert [(d.number, d.amount, d.payer_inn) for d in documents] == [
        (str(order.invoice.pk), order.price, org.inn),
        (STRANGER["number"], STRANGER["amount"], STRANGER["payer_inn"]),
    ]
    assert order.invoice.display_number in documents[0].purpose

    report = import_statement(data, file_name="kl_to_1c.txt")
    assert report.as_dict() == {"documents": 2, "incoming": 2, "matched": 1, "queued": 1,
                                "duplicates": 0, "skipped": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert Subscription.objects.filter(order=order).count() == 1
    stranger = Payment.objects.get(state=PaymentState.QUEUED)
    assert (stranger.amount, stranger.queue_reason) == (STRANGER["amount"], QueueReason.NO_MATCH)

    # Downloaded again the same day: the paid invoice is gone, the stranger is the same
    # bank document, so nothing is credited twice.
    again = demo_statement(seller_today())
    assert len(parse_statement(again).documents) == 1
    assert import_statement(again, file_name="kl_to_1c.txt").duplicates == 1
    assert Payment.objects.count() == 2


def test_with_no_open_invoice_only_the_stranger_comes(clock, tariffs, org):
    documents = parse_statement(demo_statement(seller_today())).documents
    assert [d.number for d in documents] == [STRANGER["number"]]
