"""Tariffs change only through catalog.actions (audited), also from the admin."""

from datetime import timedelta

import pytest

from podpiska.accounts.staff_groups import setup_staff_groups
from podpiska.audit.models import AuditRecord
from podpiska.catalog.actions import CatalogError, save_tariff
from podpiska.catalog.models import IndividualOffer, Tariff
from podpiska.subscriptions.models import QuotaPeriod, Subscription
from tests.conftest import NOW
from tests.factories import make_subscription, make_user

pytestmark = pytest.mark.django_db

NEW_TERMS = dict(
    code="1000",
    name="Компас 1000",
    rank=90,
    price=30_000_00,
    term_months=12,
    export_limit=1000,
    limit_reset="term",
    field_set="basic",
)


@pytest.fixture
def billing_user(db):
    user = make_user("billing@podpiska.local", is_staff=True)
    user.groups.add(setup_staff_groups()["billing"])
    return user


def test_editing_a_tariff_never_touches_bought_subscriptions(tariffs, org, clock, billing_user):
    bought = make_subscription(org, tariffs["200"], NOW - timedelta(days=10), used=700)
    period = QuotaPeriod.objects.get(subscription=bought)
    save_tariff(
        tariffs["200"],
        staff_user=billing_user,
        data={"price": 150_000_00, "export_limit": 12_000, "field_set": "extended"},
    )
    tariffs["200"].refresh_from_db()
    assert (tariffs["200"].price, tariffs["200"].export_limit) == (150_000_00, 12_000)
    bought.refresh_from_db()
    period.refresh_from_db()
    assert (bought.price, bought.export_limit, bought.field_set) == (134_400_00, 10_000, "basic")
    assert (period.limit, period.used) == (10_000, 700)
    change = AuditRecord.objects.get(action="catalog.tariff_changed")
    assert change.actor == billing_user
    assert change.before["price"] == 134_400_00 and change.after["price"] == 150_000_00


def test_creating_is_audited_and_saving_unchanged_records_nothing(clock, billing_user):
    tariff = save_tariff(Tariff(), staff_user=billing_user, data=NEW_TERMS)
    assert Tariff.objects.get(code="1000").pk == tariff.pk
    assert (
        AuditRecord.objects.filter(
            action="catalog.tariff_created", object_id=str(tariff.pk)
        ).count()
        == 1
    )
    save_tariff(tariff, staff_user=billing_user, data=NEW_TERMS)
    assert not AuditRecord.objects.filter(action="catalog.tariff_changed").exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"price": -1}, "отрицательной"),
        ({"price": 0}, "не может стоить 0"),
        ({"export_limit": 0}, "Лимит выгрузки"),
        # 1 ₽ once bought a 20-hour subscription with a 0-month term.
        ({"term_months": 0}, "Срок — от 1 до 36"),
        ({"term_months": 37}, "Срок — от 1 до 36"),
    ],
)
def test_bad_terms_change_nothing(tariffs, clock, billing_user, data, message):
    with pytest.raises(CatalogError, match=message):
        save_tariff(tariffs["200"], staff_user=billing_user, data=data)
    tariffs["200"].refresh_from_db()
    assert (tariffs["200"].price, tariffs["200"].export_limit) == (134_400_00, 10_000)
    assert not AuditRecord.objects.exists()


def test_the_free_tariff_may_cost_nothing(tariffs, clock, billing_user):
    save_tariff(tariffs["free"], staff_user=billing_user, data={"price": 0, "export_limit": 25})
    tariffs["free"].refresh_from_db()
    assert tariffs["free"].export_limit == 25


# --- the admin --------------------------------------------------------------------------


def test_admin_edit_goes_through_save_tariff_and_is_audited(
    client, tariffs, org, clock, billing_user
):
    bought = make_subscription(org, tariffs["200"], NOW - timedelta(days=10))
    client.force_login(billing_user)
    url = f"/staff/catalog/tariff/{tariffs['200'].pk}/change/"
    assert client.get(url).status_code == 200
    data = {name: getattr(tariffs["200"], name) for name in NEW_TERMS}
    response = client.post(
        url, {**data, "price": "150 000,00", "export_limit": "12000", "description": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tariffs["200"].refresh_from_db()
    assert (tariffs["200"].price, tariffs["200"].export_limit) == (150_000_00, 12_000)
    change = AuditRecord.objects.get(action="catalog.tariff_changed")
    assert change.actor == billing_user and change.after["export_limit"] == 12_000
    bought.refresh_from_db()
    assert (bought.price, bought.export_limit) == (134_400_00, 10_000)


def test_admin_add_is_audited_and_bad_input_changes_nothing(client, tariffs, clock, billing_user):
    client.force_login(billing_user)
    form = {**NEW_TERMS, "description": ""}
    response = client.post("/staff/catalog/tariff/add/", {**form, "price": "0"})
    assert response.status_code == 200 and "не может стоить 0" in response.content.decode()
    assert not Tariff.objects.filter(code="1000").exists()
    response = client.post("/staff/catalog/tariff/add/", {**form, "price": "30 000"})
    assert response.status_code == 302
    created = Tariff.objects.get(code="1000")
    assert created.price == 30_000_00
    assert AuditRecord.objects.get(action="catalog.tariff_created").actor == billing_user


def test_admin_cannot_delete_tariffs_or_change_offers(client, tariffs, org, clock, billing_user):
    from podpiska.catalog.actions import make_offer

    offer = make_offer(
        organization=org,
        staff_user=billing_user,
        valid_until=NOW.date() + timedelta(days=7),
        tariff=tariffs["400"],
    )
    client.force_login(billing_user)
    assert (
        client.post(
            f"/staff/catalog/tariff/{tariffs['100'].pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert Tariff.objects.filter(pk=tariffs["100"].pk).exists()
    page = client.get(f"/staff/catalog/individualoffer/{offer.pk}/change/")
    assert page.status_code == 200  # view only
    client.post(
        f"/staff/catalog/individualoffer/{offer.pk}/change/", {"price": "1", "status": "withdrawn"}
    )
    offer.refresh_from_db()
    assert offer.status == IndividualOffer.Status.OPEN and offer.price == tariffs["400"].price
    assert client.get("/staff/catalog/individualoffer/add/").status_code == 403
    listing = client.get("/staff/catalog/individualoffer/").content.decode()
    assert f"/staff/organizations/{org.pk}/overview/#offers" in listing
    assert Subscription.objects.count() == 0


# --- offers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        # An offer at 0 ₽ made an invoice of 0,00 ₽ nobody could pay.
        ({"tariff": "400", "price": 0}, "больше нуля"),
        ({"tariff": "400", "terms": {"tariff_name": "Особый", "price": 0, "term_months": 12,
                                     "export_limit": 1000, "limit_reset": "term",
                                     "field_set": "basic"}}, "больше нуля"),
        ({"tariff": "400", "terms": {"tariff_name": "Особый", "price": 100_00, "term_months": 0,
                                     "export_limit": 1000, "limit_reset": "term",
                                     "field_set": "basic"}}, "Срок — от 1 до 36"),
        ({"addon_exports": 1000, "price": 0}, "больше нуля"),
    ],
)
def test_an_offer_nobody_could_pay_for_is_refused(tariffs, org, clock, billing_user, kwargs, message):
    from podpiska.catalog.actions import make_offer

    if "tariff" in kwargs:
        kwargs = {**kwargs, "tariff": tariffs[kwargs["tariff"]]}
    with pytest.raises(CatalogError, match=message):
        make_offer(organization=org, staff_user=billing_user,
                   valid_until=NOW.date() + timedelta(days=7), **kwargs)
    assert not IndividualOffer.objects.exists() and not AuditRecord.objects.exists()


def test_staff_page_refuses_a_zero_price_offer_and_a_zero_month_tariff(client, tariffs, org, clock,
                                                                       billing_user):
    client.force_login(billing_user)
    response = client.post(f"/staff/organizations/{org.pk}/offers/new/", {
        "kind": "tariff", "tariff": tariffs["400"].pk, "price": "0", "valid_until": "2026-12-15",
    }, follow=True)
    assert "Цена предложения должна быть больше нуля" in response.content.decode()
    response = client.post("/staff/tariffs/new/", {
        "code": "1m", "name": "Месяц", "rank": "15", "price": "1", "term_months": "0",
        "export_limit": "100", "limit_reset": "term", "field_set": "basic",
    })
    assert "Срок — от 1 до 36" in response.content.decode()
    assert not IndividualOffer.objects.exists() and not Tariff.objects.filter(code="1m").exists()
    assert not AuditRecord.objects.exists()
