from datetime import timedelta

import pytest

from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import OrderRefused, cancel_order, expire_overdue_orders
from podpiska.billing.models import Invoice, Order, OrderKind, OrderStatus, PaymentMethod
from podpiska.catalog.actions import make_offer
from podpiska.notifications.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import NOW
from tests.factories import make_org, make_subscription, make_user


@pytest.fixture
def paid_org(tariffs, org):
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300), used=5_000)
    return org


def test_renewal_order_copies_terms_and_issues_an_invoice(paid_org, owner, tariffs, order_for):
    order = order_for(paid_org, owner, tariff=tariffs["200"])
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert (order.kind, order.price, order.export_limit) == ("renew", 134_400_00, 10_000)
    assert order.requisites["inn"] == paid_org.inn
    assert Invoice.objects.get(order=order).total == 134_400_00
    assert AuditRecord.objects.filter(action="order.placed", object_id=str(order.pk)).exists()
    tariffs["200"].price = 1
    tariffs["200"].save()
    order.refresh_from_db()
    assert order.price == 134_400_00


def test_double_submit_creates_one_order(paid_org, owner, tariffs, order_for):
    first = order_for(paid_org, owner, tariff=tariffs["200"], key="same")
    second = order_for(paid_org, owner, tariff=tariffs["200"], key="same")
    assert first.pk == second.pk
    assert Order.objects.count() == 1 and Invoice.objects.count() == 1


def test_online_order_has_no_invoice(paid_org, owner, tariffs, order_for):
    order = order_for(paid_org, owner, tariff=tariffs["200"], method=PaymentMethod.ONLINE)
    assert not Invoice.objects.filter(order=order).exists()


@pytest.mark.parametrize(
    "kind,code,message",
    [
        (OrderKind.RENEW, "400", "недоступен"),  # renewal is the same tariff
        (OrderKind.UPGRADE, "100", "недоступен"),  # not the picked upgrade
        (OrderKind.RESUME, "200", "недоступен"),  # nothing to resume while paid
        (OrderKind.SWITCH, "free", "Бесплатный тариф"),
    ],
)
def test_refuses_what_is_not_offered(paid_org, owner, tariffs, order_for, kind, code, message):
    with pytest.raises(OrderRefused) as err:
        order_for(paid_org, owner, kind=kind, tariff=tariffs[code])
    assert message in str(err.value)
    assert Order.objects.count() == 0


def test_refuses_an_archived_tariff(paid_org, owner, tariffs, order_for):
    tariffs["400"].is_archived = True
    tariffs["400"].save()
    with pytest.raises(OrderRefused, match="больше не продаётся"):
        order_for(paid_org, owner, kind=OrderKind.SWITCH, tariff=tariffs["400"])
    assert Order.objects.count() == 0


def test_member_cannot_buy(paid_org, tariffs, order_for):
    member = make_user()
    paid_org.memberships.create(user=member, role="member")
    with pytest.raises(OrderRefused, match="владелец и администраторы"):
        order_for(paid_org, member, tariff=tariffs["200"])
    outsider = make_user()
    with pytest.raises(OrderRefused):
        order_for(paid_org, outsider, tariff=tariffs["200"])
    assert Order.objects.count() == 0


def test_corrected_requisites_are_saved_audited_and_frozen(paid_org, owner, tariffs, order_for):
    data = paid_org.requisites() | {"address": "101000, г. Москва, ул. Мясницкая, д. 1"}
    order = order_for(paid_org, owner, tariff=tariffs["200"], requisites=data)
    paid_org.refresh_from_db()
    assert paid_org.legal_address.startswith("101000")
    assert order.requisites["address"].startswith("101000")
    assert AuditRecord.objects.filter(action="organization.requisites_updated").count() == 1
    paid_org.legal_address = "другой адрес"
    paid_org.save()
    order.refresh_from_db()
    assert order.requisites["address"].startswith("101000")


def test_invalid_requisites_change_nothing(paid_org, owner, tariffs, order_for):
    from podpiska.accounts.actions import RequisitesInvalid

    data = paid_org.requisites() | {"inn": "7707083894", "address": "новый"}
    with pytest.raises(RequisitesInvalid) as err:
        order_for(paid_org, owner, tariff=tariffs["200"], requisites=data)
    assert "inn" in err.value.errors
    paid_org.refresh_from_db()
    assert paid_org.legal_address != "новый"
    assert Order.objects.count() == 0


def test_offer_of_another_organization_is_refused(paid_org, owner, tariffs, order_for):
    other = make_org()
    offer = make_offer(organization=other, staff_user=None, valid_until=NOW.date(), tariff=tariffs["400"])
    with pytest.raises(OrderRefused, match="не найдено"):
        order_for(paid_org, owner, offer=offer)


def test_expired_offer_is_refused(paid_org, owner, tariffs, order_for, clock):
    offer = make_offer(organization=paid_org, staff_user=None, valid_until=NOW.date(), tariff=tariffs["400"], price=300_000_00)
    clock.shift(timedelta(days=1))
    with pytest.raises(OrderRefused, match="истёк"):
        order_for(paid_org, owner, offer=offer)


def test_individual_offer_price(paid_org, owner, tariffs, order_for):
    offer = make_offer(organization=paid_org, staff_user=None, valid_until=NOW.date(), tariff=tariffs["400"], price=300_000_00)
    order = order_for(paid_org, owner, offer=offer)
    assert (order.kind, order.price, order.tariff_name) == ("offer", 300_000_00, "Компас 400")


def test_cancel_and_expire(paid_org, owner, tariffs, order_for, clock):
    order = order_for(paid_org, owner, tariff=tariffs["200"])
    cancel_order(order, actor=owner)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    cancel_order(order, actor=owner)  # repeat is harmless
    second = order_for(paid_org, owner, tariff=tariffs["200"], key="second")
    assert expire_overdue_orders(NOW) == 0
    clock.shift(timedelta(days=30))
    assert expire_overdue_orders(clock.now()) == 1
    second.refresh_from_db()
    assert second.status == OrderStatus.EXPIRED
    assert expire_overdue_orders(clock.now()) == 0


def test_order_events_go_to_the_webhook_outbox(paid_org, owner, tariffs, order_for):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=NOW)
    order_for(paid_org, owner, tariff=tariffs["200"])
    assert set(WebhookDelivery.objects.values_list("event", flat=True)) == {"order.created", "invoice.issued"}


def test_renewal_ordered_again_returns_the_pending_order(paid_org, owner, tariffs, order_for):
    first = order_for(paid_org, owner, tariff=tariffs["200"], key="one")
    again = order_for(paid_org, owner, tariff=tariffs["200"], key="two")
    assert again.pk == first.pk and Invoice.objects.count() == 1
    online = order_for(paid_org, owner, tariff=tariffs["200"], key="three", method=PaymentMethod.ONLINE)
    assert online.pk != first.pk
    corrected = order_for(paid_org, owner, tariff=tariffs["200"], key="four",
                          requisites=paid_org.requisites() | {"address": "101000, г. Москва, Мясницкая, 2"})
    assert corrected.pk != first.pk and Invoice.objects.count() == 2
