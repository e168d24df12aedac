"""The renew / upgrade windows and «Продолжить оформление» → place_order."""

import re
from datetime import timedelta

from django.urls import reverse

from podpiska.audit.models import AuditRecord
from podpiska.billing.models import Invoice, Order
from tests.conftest import NOW
from tests.factories import make_subscription

HX = {"HTTP_HX_REQUEST": "true"}


def checkout_data(client, kind="renew", **extra) -> dict:
    response = client.get(reverse("web:checkout", args=[kind]), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    data = {
        name: value
        for name, value in re.findall(r'name="(\w+)" (?:id="[^"]*" )?value="([^"]*)"', html)
    }
    key = re.search(r'name="idempotency_key" value="(\w+)"', html).group(1)
    data.update({"idempotency_key": key, "payment_method": "invoice"}, **extra)
    return {k: v.replace("&quot;", '"').replace("&#x27;", "'") for k, v in data.items()}


def test_renew_window_shows_the_variant_after_the_current_end(signed_in, paid_org):
    html = signed_in.get(reverse("web:choice", args=["renew"]), **HX).content.decode()
    assert "Продление подписки" in html
    assert "Компас 200" in html
    assert "с 07.12.2026 по 06.12.2027 включительно" in html
    assert "10\u00a0000 карточек за срок" in html
    assert "134\u00a0400,00\u00a0₽" in html
    assert "в том числе НДС (22 %) 24\u00a0236,07\u00a0₽" in html
    assert "телефоны" not in html and "ОКВЭД" in html  # basic field set, listed
    assert "<html" not in html  # a window fragment for htmx


def test_upgrade_window_says_why(signed_in, paid_org):
    html = signed_in.get(reverse("web:choice", args=["upgrade"])).content.decode()
    assert "<html" in html  # without htmx: a whole page
    assert "Компас 400" in html and "Почему этот тариф" in html
    assert "«Компас 400» даёт 50\xa0000 выгрузок за срок вместо 10\xa0000" in html
    assert "с 07.12.2026 по 06.12.2027" in html
    assert "телефоны" in html  # extended fields listed


def test_a_choice_not_offered_is_404(signed_in, tariffs, org, clock):
    make_subscription(org, tariffs["max"], NOW - timedelta(days=60))
    assert signed_in.get(reverse("web:choice", args=["upgrade"])).status_code == 404
    assert signed_in.get(reverse("web:choice", args=["nonsense"])).status_code == 404
    assert signed_in.get(reverse("web:choice", args=["switch"]) + "?tariff=free").status_code == 404


def test_checkout_places_one_order_with_invoice_even_on_double_submit(signed_in, paid_org):
    data = checkout_data(signed_in)
    first = signed_in.post(reverse("web:checkout", args=["renew"]), data, **HX)
    second = signed_in.post(reverse("web:checkout", args=["renew"]), data, **HX)
    assert first.status_code == second.status_code == 200
    order = Order.objects.get(organization=paid_org)
    assert order.kind == "renew" and order.price == 134_400_00 and order.status == "awaiting_payment"
    invoice = Invoice.objects.get(order=order)
    html = first.content.decode()
    assert invoice.display_number in html
    assert reverse("billing:invoice", args=[invoice.pk]) in html
    assert reverse("billing:invoice_pdf", args=[invoice.pk]) in html
    assert f"Оплата по счёту № {invoice.display_number}" in html
    assert "до 3 рабочих дней" in html
    # The header menu, swapped out of band, now says «ожидает оплаты».
    assert 'hx-swap-oob="true"' in html and "ожидает оплаты" in html
    assert second.content.decode().count(invoice.display_number) >= 1


def test_invalid_requisites_show_field_errors_and_save_nothing(signed_in, paid_org):
    data = checkout_data(signed_in, inn="7707083894", kpp="12", name="")
    response = signed_in.post(reverse("web:checkout", args=["renew"]), data, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "ИНН: неверная контрольная цифра" in html
    assert "Полное наименование: укажите значение" in html
    data = checkout_data(signed_in, kpp="12")
    html = signed_in.post(reverse("web:checkout", args=["renew"]), data, **HX).content.decode()
    assert "КПП должен состоять из 9 символов" in html
    assert not Order.objects.exists()
    paid_org.refresh_from_db()
    assert paid_org.kpp == "770101001"
    assert not AuditRecord.objects.filter(action="organization.requisites_updated").exists()


def test_corrected_requisites_are_saved_and_frozen_on_the_order(signed_in, paid_org):
    data = checkout_data(signed_in, legal_address="", address="101000, г. Москва, ул. Новая, д. 2")
    signed_in.post(reverse("web:checkout", args=["renew"]), data, **HX)
    paid_org.refresh_from_db()
    assert paid_org.legal_address == "101000, г. Москва, ул. Новая, д. 2"
    assert Order.objects.get().requisites["address"] == "101000, г. Москва, ул. Новая, д. 2"


def test_online_payment_redirects_to_the_provider(signed_in, paid_org):
    data = checkout_data(signed_in, payment_method="online")
    response = signed_in.post(reverse("web:checkout", args=["renew"]), data, **HX)
    assert response.status_code == 204
    order = Order.objects.get()
    assert order.payment_method == "online" and not Invoice.objects.exists()
    attempt = order.online_payments.get()
    assert response["HX-Redirect"] == attempt.confirmation_url
    # Without JavaScript: a plain redirect; the repeated key reuses the same order.
    response = signed_in.post(reverse("web:checkout", args=["renew"]), data)
    assert response.status_code == 302 and Order.objects.count() == 1


def test_online_is_refused_with_a_message_where_no_provider_is_configured(signed_in, paid_org, settings):
    settings.PODPISKA = {**settings.PODPISKA, "ONLINE_PROVIDER": "nowhere"}
    data = checkout_data(signed_in, payment_method="online")
    assert "Онлайн-оплата пока недоступна" in signed_in.get(reverse("web:checkout", args=["renew"])).content.decode()
    response = signed_in.post(reverse("web:checkout", args=["renew"]), data, **HX)
    assert "Выберите способ оплаты" in response.content.decode()
    assert not Order.objects.exists()


def test_member_gets_403_on_buying_endpoints(member_client, paid_org):
    assert member_client.get(reverse("web:checkout", args=["renew"])).status_code == 403
    response = member_client.post(reverse("web:checkout", args=["renew"]), {"idempotency_key": "x"})
    assert response.status_code == 403
    html = member_client.get(reverse("web:choice", args=["renew"])).content.decode()
    assert "Продолжить оформление" not in html
    assert not Order.objects.exists()


def test_anonymous_is_sent_to_login(client, paid_org):
    response = client.get(reverse("web:checkout", args=["renew"]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_pending_online_order_can_be_paid_from_the_menu_and_settings(signed_in, owner, paid_org, tariffs):
    from podpiska.billing.actions import place_order

    order = place_order(organization=paid_org, user=owner, kind="upgrade", payment_method="online",
                        idempotency_key="o1", tariff=tariffs["400"])
    html = signed_in.get(reverse("web:settings")).content.decode()
    # The menu, the open order in the subscription section and the orders table.
    assert html.count(reverse("billing:pay_online", args=[order.pk])) == 3



def test_checkout_window_leads_back_to_the_same_variant(signed_in, paid_org):
    html = signed_in.get(reverse("web:checkout", args=["upgrade"]) + "?tariff=400", **HX).content.decode()
    back = re.search(r'<a [^>]*data-testid="back-to-variant"[^>]*>', html).group(0)
    url = reverse("web:choice", args=["upgrade"]) + "?tariff=400"
    assert f'href="{url}"' in back and f'hx-get="{url}"' in back and 'hx-target="#window-body"' in back
    variant = signed_in.get(url, **HX).content.decode()
    assert "Компас 400" in variant and 'data-testid="continue"' in variant
