"""Hostile input in the back-office forms: a clear Russian message, nothing written.

The values come from the attack probe (tests/hostile.py): amounts of 29 digits and 10¹⁵
rubles, counts of 2³¹ and more, dates in year 1 and 9999, a megabyte of text.
"""

from datetime import timedelta

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from podpiska.accounts.staff_groups import setup_staff_groups
from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import place_order
from podpiska.billing.models import Payment
from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.core import limits
from podpiska.support.models import LimitIncreaseRequest
from tests import hostile
from tests.conftest import MSK, NOW
from tests.factories import make_subscription, make_user

pytestmark = pytest.mark.django_db
MEGABYTE = "я" * (1 << 20)


@pytest.fixture
def billing(clock) -> Client:
    groups = setup_staff_groups()
    user = make_user("billing@podpiska.local", is_staff=True)
    user.groups.add(groups["billing"], groups["support"])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def renewal(clock, tariffs, org, owner):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=355))
    return place_order(
        organization=org, user=owner, kind="renew", payment_method="invoice",
        idempotency_key="renew-1", tariff=tariffs["200"],
    )


def nothing_written(*models):
    for model in models:
        assert not model.objects.exists(), model
    assert not AuditRecord.objects.filter(actor__is_staff=True).exists()


def manual(renewal, **over):
    data = {"reference": renewal.invoice.display_number, "amount": "134 400,00",
            "doc_date": "2026-11-26", "doc_number": "512"}
    return {**data, **over}


@pytest.mark.parametrize("amount", hostile.AMOUNTS)
def test_manual_payment_of_an_absurd_amount(billing, renewal, amount):
    for _ in range(2):  # and again: still nothing
        response = billing.post("/staff/payments/confirm/", manual(renewal, amount=amount))
        assert response.status_code == 200
        text = response.content.decode()
        assert "Сумма не больше 1 000 000 000,00 ₽" in text or "Введите сумму в рублях" in text
    nothing_written(Payment)


@pytest.mark.parametrize("day", [*hostile.DATES_ISO, "01.01.0001", "1999-12-31"])
def test_manual_payment_dated_outside_the_window(billing, renewal, day):
    response = billing.post("/staff/payments/confirm/", manual(renewal, doc_date=day))
    assert response.status_code == 200
    text = response.content.decode()
    assert "не раньше 01.01.2000" in text or "не может быть в будущем" in text
    nothing_written(Payment)
    # The queue and the payment admin still answer.
    assert billing.get("/staff/payments/queue/").status_code == 200


def test_manual_payment_at_the_edges_is_recorded_and_every_page_reads_it(billing, renewal, org):
    response = billing.post(
        "/staff/payments/confirm/", manual(renewal, doc_date="2000-01-01", amount="1000"),
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.received_at.astimezone(MSK).date().isoformat() == "2000-01-01"
    for url in ("/staff/payments/queue/", "/staff/billing/payment/",
                f"/staff/billing/payment/{payment.pk}/change/", f"/staff/organizations/{org.pk}/overview/"):
        assert billing.get(url).status_code == 200, url


def test_manual_payment_note_of_a_megabyte(billing, renewal):
    response = billing.post("/staff/payments/confirm/", manual(renewal, note=MEGABYTE))
    assert "не более" in response.content.decode() or "не больше" in response.content.decode()
    nothing_written(Payment)


def offer_post(billing, org, **data):
    base = {"valid_until": (NOW.date() + timedelta(days=10)).isoformat()}
    return billing.post(f"/staff/organizations/{org.pk}/offers/new/", {**base, **data}, follow=True)


@pytest.mark.parametrize("count", hostile.COUNTS)
def test_offer_with_an_absurd_addon(billing, org, count):
    response = offer_post(billing, org, kind="addon", addon_exports=count, price="1000")
    assert response.status_code == 200
    assert "1000000000" in response.content.decode() or "1 000 000 000" in response.content.decode()
    nothing_written(IndividualOffer)


@pytest.mark.parametrize("price", hostile.AMOUNTS)
def test_offer_with_an_absurd_price(billing, org, tariffs, price):
    response = offer_post(billing, org, kind="tariff", tariff=tariffs["400"].pk, price=price)
    text = response.content.decode()
    assert "Сумма не больше 1 000 000 000,00 ₽" in text or "Введите сумму в рублях" in text
    nothing_written(IndividualOffer)


@pytest.mark.parametrize("day", ["9999-12-31", (NOW.date() + limits.MAX_OFFER_VALIDITY + timedelta(days=1)).isoformat()])
def test_offer_valid_for_ever_is_refused(billing, org, tariffs, day):
    response = offer_post(billing, org, kind="tariff", tariff=tariffs["400"].pk, valid_until=day)
    assert "Предложение действует не дольше" in response.content.decode()
    nothing_written(IndividualOffer)


def test_custom_offer_with_an_absurd_limit(billing, org, tariffs):
    response = offer_post(
        billing, org, kind="custom", tariff=tariffs["400"].pk, tariff_name="X", price="1000",
        export_limit=str(2**31), term_months="12", field_set="basic", limit_reset="term",
    )
    assert "1000000000" in response.content.decode() or "1 000 000 000" in response.content.decode()
    nothing_written(IndividualOffer)


@pytest.mark.parametrize("count", hostile.COUNTS)
def test_limit_answer_with_an_absurd_count(billing, org, owner, count):
    request = LimitIncreaseRequest.objects.create(organization=org, user=owner, extra_exports=5000, created_at=NOW)
    response = billing.post(f"/staff/limit-requests/{request.pk}/answer/", {
        "extra_exports": count, "price": "40 000,00", "valid_until": "2026-12-31", "answer": "Да",
    })
    assert response.status_code == 200
    assert "1000000000" in response.content.decode() or "1 000 000 000" in response.content.decode()
    nothing_written(IndividualOffer)
    request.refresh_from_db()
    assert request.status != "answered"


def tariff_data(**over):
    data = {"code": "1000", "name": "Компас 1000", "rank": "90", "price": "30 000",
            "term_months": "12", "export_limit": "1000", "limit_reset": "term", "field_set": "basic"}
    return {**data, **over}


@pytest.mark.parametrize(
    ("over", "says"),
    [
        ({"export_limit": str(2**31)}, "1000000000"),
        ({"export_limit": "9" * 30}, "1000000000"),
        ({"first_period_limit": str(2**31)}, "1000000000"),
        ({"price": "1" * 29}, "Сумма не больше"),
        ({"price": "1000000000000000"}, "Сумма не больше"),
        ({"description": MEGABYTE}, "5000"),
        ({"name": hostile.NUL_NAME}, "ноль-байт"),
    ],
)
def test_tariff_with_hostile_terms(billing, tariffs, over, says):
    count = Tariff.objects.count()
    for url in ("/staff/tariffs/new/", "/staff/catalog/tariff/add/"):
        response = billing.post(url, tariff_data(**over))
        assert response.status_code == 200, url
        text = response.content.decode()
        assert says in text or says.replace("1000000000", "1 000 000 000") in text, url
    assert Tariff.objects.count() == count
    assert not AuditRecord.objects.filter(action="catalog.tariff_created").exists()


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=st.dates(), iso=st.booleans())
def test_no_date_the_form_can_carry_makes_an_unreadable_row(billing, renewal, day, iso):
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}" if iso else f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    response = billing.post(
        "/staff/payments/confirm/", manual(renewal, doc_date=text, doc_number=f"n{day.toordinal()}")
    )
    assert response.status_code in (200, 302)
    # Whatever was written reads back, and the pages that list payments answer.
    for received_at, doc_date in Payment.objects.values_list("received_at", "doc_date"):
        assert limits.EARLIEST_BANK_DATE <= doc_date <= NOW.date()
        assert received_at.astimezone(MSK).date() >= limits.EARLIEST_BANK_DATE
    assert billing.get("/staff/payments/queue/").status_code == 200
