"""«Настройки организации», the profile, the limit-increase request, support."""

from datetime import date, timedelta

from django.urls import reverse

from podpiska.accounts.models import Membership
from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import place_order
from podpiska.catalog.models import IndividualOffer
from podpiska.support.actions import answer_limit_request_with_offer
from podpiska.support.models import LimitIncreaseRequest, SupportRequest
from tests.conftest import NOW
from tests.factories import make_subscription, make_user


def page(client) -> str:
    response = client.get(reverse("web:settings"))
    assert response.status_code == 200
    return response.content.decode()


def test_paid_settings_show_timeline_renewal_catalog_requisites(signed_in, owner, paid_org, tariffs):
    make_subscription(paid_org, tariffs["100"], NOW - timedelta(days=800), ends_at=NOW - timedelta(days=355))
    place_order(organization=paid_org, user=owner, kind="renew", payment_method="invoice",
                idempotency_key="k", tariff=tariffs["200"])
    html = page(signed_in)
    assert 'data-testid="settings-renew"' in html and 'data-testid="settings-upgrade"' in html
    assert "действует" in html and "завершена" in html  # timeline statuses
    for name in ("Компас 100", "Компас 200", "Компас 400", "Компас Максимум"):
        assert name in html
    assert 'data-testid="switch-100"' in html  # a lower tariff too
    assert "ожидает оплаты" in html and "PDF" in html
    assert paid_org.inn in html and "Изменить реквизиты" in html
    assert "Увеличить лимит выгрузки" not in html


def test_free_after_paid_offers_resume(signed_in, tariffs, org, clock):
    make_subscription(org, tariffs["100"], NOW - timedelta(days=400), ends_at=NOW - timedelta(days=30))
    html = page(signed_in)
    assert 'data-testid="resume"' in html and "Компас 100" in html and "Возобновить" in html
    assert 'data-testid="default-offer"' not in html


def test_never_paid_gets_tariff_400_with_extended_fields(signed_in, tariffs, org, clock):
    html = page(signed_in)
    assert 'data-testid="default-offer"' in html
    assert "Рекомендуем тариф «Компас 400»" in html
    assert "Расширенный набор полей" in html and "телефоны" in html and "руководитель" in html


def test_maximum_offers_limit_increase_and_shows_the_answer(signed_in, owner, tariffs, org, clock):
    make_subscription(org, tariffs["max"], NOW - timedelta(days=60))
    html = page(signed_in)
    assert 'data-testid="limit-form"' in html
    response = signed_in.post(reverse("support:limit_increase"), {"extra_exports": "20000", "comment": "Сезон"})
    assert response.status_code == 302
    request = LimitIncreaseRequest.objects.get(organization=org)
    assert request.extra_exports == 20_000 and request.comment == "Сезон"
    html = page(signed_in)
    assert "на +20\u00a0000 выгрузок: новая" in html
    assert 'data-testid="limit-form"' not in html
    staff = make_user(is_staff=True)
    answer_limit_request_with_offer(request, staff_user=staff, extra_exports=20_000, price=50_000_00,
                                    valid_until=date(2026, 12, 31), answer="Готовы добавить")
    html = page(signed_in)
    assert "Готовы добавить" in html and 'data-testid="offer-button"' in html
    offer = IndividualOffer.objects.get()
    window = signed_in.get(reverse("web:choice", args=["addon"]) + f"?offer={offer.pk}").content.decode()
    assert "+20\u00a0000 выгрузок к лимиту" in window and "50\u00a0000,00\u00a0₽" in window


def test_limit_increase_bad_input_changes_nothing(signed_in, tariffs, org, clock):
    make_subscription(org, tariffs["max"], NOW - timedelta(days=60))
    signed_in.post(reverse("support:limit_increase"), {"extra_exports": "-5"})
    assert not LimitIncreaseRequest.objects.exists()


def test_settings_queries_do_not_grow_with_rows(signed_in, owner, paid_org, tariffs, django_assert_max_num_queries):
    with django_assert_max_num_queries(40) as few:
        page(signed_in)
    baseline = len(few.captured_queries)
    for n in range(5):
        place_order(organization=paid_org, user=owner, kind="renew", payment_method="invoice",
                    idempotency_key=f"q{n}", tariff=tariffs["200"])
        make_subscription(paid_org, tariffs["100"], NOW - timedelta(days=2400 - 400 * n))
    with django_assert_max_num_queries(baseline):
        html = page(signed_in)
    assert html.count("ожидает оплаты") >= 5
    print(f"settings page: {baseline} queries")


def test_requisites_edit_is_audited_and_validated(signed_in, paid_org):
    data = {"name": paid_org.name, "short_name": paid_org.short_name, "inn": paid_org.inn,
            "kpp": "770201001", "ogrn": paid_org.ogrn, "address": paid_org.legal_address, "email": ""}
    assert signed_in.post(reverse("web:requisites"), {**data, "ogrn": "1027700132190"}).status_code == 200
    paid_org.refresh_from_db()
    assert paid_org.kpp == "770101001"
    assert signed_in.post(reverse("web:requisites"), data).status_code == 302
    paid_org.refresh_from_db()
    assert paid_org.kpp == "770201001"
    assert AuditRecord.objects.filter(action="organization.requisites_updated").count() == 1


def test_member_cannot_edit_requisites(member_client, paid_org):
    assert member_client.get(reverse("web:requisites")).status_code == 403
    html = page(member_client)
    assert "Изменить реквизиты" not in html and 'data-testid="member-note"' in html


def test_profile_reminders_toggle_is_audited(signed_in, owner, org):
    assert signed_in.post(reverse("web:profile"), {}).status_code == 302
    owner.refresh_from_db()
    assert owner.reminders_enabled is False
    signed_in.post(reverse("web:profile"), {"reminders_enabled": "on"})
    owner.refresh_from_db()
    assert owner.reminders_enabled is True
    assert AuditRecord.objects.filter(action="user.reminders_changed").count() == 2


def test_support_request_from_the_panel(signed_in, org, clock):
    html = signed_in.get(reverse("web:home")).content.decode()
    assert "8 800 500-10-10" in html and "support@podpiska.local" in html
    response = signed_in.post(reverse("support:request"), {"subject": "Счёт", "message": "Где счёт?"},
                              HTTP_HX_REQUEST="true")
    assert "принято" in response.content.decode()
    assert SupportRequest.objects.get().organization == org
    response = signed_in.post(reverse("support:request"), {"subject": "", "message": ""}, HTTP_HX_REQUEST="true")
    assert SupportRequest.objects.count() == 1
    assert "Обязательное поле" in response.content.decode()


def test_another_organizations_invoice_is_404(client, owner, paid_org, tariffs, other_org):
    order = place_order(organization=paid_org, user=owner, kind="renew", payment_method="invoice",
                        idempotency_key="k", tariff=tariffs["200"])
    stranger = Membership.objects.get(organization=other_org).user
    client.force_login(stranger)
    assert client.get(reverse("billing:invoice", args=[order.invoice.pk])).status_code == 404


def test_no_organization_page(client, db, clock):
    user = make_user()
    client.force_login(user)
    assert "Нет организации" in client.get(reverse("web:home")).content.decode()
    assert client.get(reverse("web:settings")).status_code == 404


def test_free_tariff_is_named_once(signed_in, tariffs, org, clock):
    html = page(signed_in)
    name = tariffs["free"].name
    assert f"Платной подписки нет. Тариф «{name}»: осталось" in html
    assert f"Бесплатный тариф «{name}»" not in html
