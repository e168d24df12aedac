from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group

from podpiska.accounts.staff_groups import setup_staff_groups
from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import place_order, record_payment
from podpiska.billing.models import OnlinePaymentStatus, OrderStatus, Payment, PaymentState
from podpiska.catalog.models import IndividualOffer
from podpiska.core.models import ClockOffset
from podpiska.subscriptions.models import Subscription
from podpiska.support.models import LimitIncreaseRequest, SupportRequest
from tests.conftest import NOW
from tests.factories import make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_groups(db):
    return setup_staff_groups()


def _staff(client, group_name, staff_groups, email=None):
    user = make_user(email or f"{group_name}@podpiska.local", is_staff=True)
    user.groups.add(staff_groups[group_name])
    client.force_login(user)
    return user


@pytest.fixture
def renewal(clock, tariffs, org, owner):
    """A Компас 200 subscription ending in ten days and an unpaid invoice to renew it."""
    make_subscription(org, tariffs["200"], NOW - timedelta(days=355))
    order = place_order(
        organization=org, user=owner, kind="renew", payment_method="invoice",
        idempotency_key="renew-1", tariff=tariffs["200"],
    )
    return order


# --- who may see what -------------------------------------------------------------


def test_customer_gets_nothing_from_staff(client, owner, clock):
    client.force_login(owner)
    for url in ["/staff/", "/staff/dashboard/", "/staff/payments/confirm/", "/staff/payments/queue/",
                "/staff/organizations/1/overview/", "/staff/clock/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/staff/login/"), url
    response = client.post("/staff/payments/confirm/", {"reference": "1", "amount": "1"})
    assert response.status_code == 302 and not Payment.objects.exists()


def test_anonymous_is_sent_to_the_staff_login(client):
    response = client.get("/staff/payments/queue/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")


def test_support_user_cannot_confirm_payments_or_import_statements(client, staff_groups, renewal):
    _staff(client, "support", staff_groups)
    data = {"reference": renewal.invoice.display_number, "amount": "134 400,00",
            "doc_date": "2026-11-27", "doc_number": "55"}
    assert client.get("/staff/payments/confirm/").status_code == 403
    assert client.post("/staff/payments/confirm/", data).status_code == 403
    assert client.get("/staff/statements/upload/").status_code == 403
    payment, _ = record_payment(source="statement", amount=100, received_at=NOW, dedup_key="x")
    assert client.post(f"/staff/payments/{payment.pk}/match/", {"reference": "1"}).status_code == 403
    assert not Payment.objects.filter(source="manual").exists()
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.AWAITING_PAYMENT
    # What support may do: look.
    assert client.get("/staff/").status_code == 200
    assert client.get("/staff/payments/queue/").status_code == 200
    assert client.get(f"/staff/organizations/{renewal.organization_id}/overview/").status_code == 200


def test_groups_are_created_with_their_rights(staff_groups):
    billing, support = Group.objects.get(name="billing"), Group.objects.get(name="support")
    billing_perms = set(billing.permissions.values_list("codename", flat=True))
    support_perms = set(support.permissions.values_list("codename", flat=True))
    assert {"add_payment", "change_payment", "add_statementimport"} <= billing_perms
    assert not {"add_payment", "change_payment", "add_statementimport"} & support_perms
    assert "change_supportrequest" in support_perms
    setup_staff_groups()  # idempotent
    assert Group.objects.filter(name__in=["billing", "support"]).count() == 2


# --- payments ----------------------------------------------------------------------


def test_billing_confirms_a_bank_payment_by_hand(client, staff_groups, renewal, org):
    user = _staff(client, "billing", staff_groups)
    data = {"reference": f"№ {renewal.invoice.display_number}", "amount": "134 400,00",
            "doc_date": "27.11.2026", "doc_number": "512", "payer_inn": org.inn}
    response = client.post("/staff/payments/confirm/", data, follow=True)
    assert response.status_code == 200
    assert "Платёж зачтён, заказ исполнен." in response.content.decode()

    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.FULFILLED
    payment = Payment.objects.get(source="manual")
    assert payment.amount == 134_400_00 and payment.state == PaymentState.APPLIED
    assert payment.doc_number == "512" and payment.created_by == user
    renewed = Subscription.objects.get(order=renewal)
    assert renewed.starts_at == Subscription.objects.exclude(pk=renewed.pk).get().ends_at
    assert AuditRecord.objects.filter(action="payment.applied", actor=user).exists()

    # The form posted twice credits nothing twice: staff are told before anything is saved.
    response = client.post("/staff/payments/confirm/", data, follow=True)
    assert "уже внесено вручную" in response.content.decode()
    assert Payment.objects.count() == 1 and Subscription.objects.count() == 2


def test_manual_payment_bad_input_changes_nothing(client, staff_groups, renewal):
    _staff(client, "billing", staff_groups)
    for data, message in [
        ({"reference": "2026-99999", "amount": "100", "doc_date": "2026-11-27", "doc_number": "1"},
         "не найден"),
        ({"reference": renewal.invoice.display_number, "amount": "сто", "doc_date": "2026-11-27",
          "doc_number": "1"}, "Введите сумму в рублях"),
        ({"reference": renewal.invoice.display_number, "amount": "100", "doc_date": "2026-12-25",
          "doc_number": "1"}, "не может быть в будущем"),
        # Arabic-Indic digits once passed as 100 ₽.
        ({"reference": renewal.invoice.display_number, "amount": "١٠٠", "doc_date": "2026-11-27",
          "doc_number": "1"}, "Введите сумму в рублях"),
    ]:
        response = client.post("/staff/payments/confirm/", data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Payment.objects.exists()


def test_underpayment_by_hand_goes_to_the_queue(client, staff_groups, renewal):
    _staff(client, "billing", staff_groups)
    data = {"reference": renewal.invoice.display_number, "amount": "1000",
            "doc_date": "2026-11-26", "doc_number": "7"}
    response = client.post("/staff/payments/confirm/", data, follow=True)
    assert "недоплата" in response.content.decode()
    assert Payment.objects.get().state == PaymentState.QUEUED
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.AWAITING_PAYMENT


def test_unmatched_queue_one_click_match_fulfils_the_order(client, staff_groups, renewal):
    user = _staff(client, "billing", staff_groups)
    payment, _ = record_payment(
        source="statement", amount=134_400_00, received_at=NOW, dedup_key="stmt-1",
        payer_name="ООО «Тест»", payer_inn="7700000000", purpose="Оплата за доступ к сервису",
        suggestions=[renewal.invoice.pk],
    )
    page = client.get("/staff/payments/queue/").content.decode()
    assert "Оплата за доступ к сервису" in page
    assert f"На счёт № {renewal.invoice.display_number}" in page

    response = client.post(
        f"/staff/payments/{payment.pk}/match/", {"reference": renewal.invoice.display_number}, follow=True
    )
    assert "Платёж зачтён, заказ исполнен." in response.content.decode()
    payment.refresh_from_db()
    renewal.refresh_from_db()
    assert payment.state == PaymentState.APPLIED and payment.order == renewal
    assert renewal.status == OrderStatus.FULFILLED
    assert Subscription.objects.filter(order=renewal).exists()
    assert AuditRecord.objects.filter(action="order.fulfilled", actor=user).exists()

    # A second click does nothing more.
    client.post(f"/staff/payments/{payment.pk}/match/", {"reference": renewal.invoice.display_number})
    assert Subscription.objects.filter(order=renewal).count() == 1
    assert "Очередь пуста" in client.get("/staff/payments/queue/").content.decode()


def test_statement_upload_refuses_a_bad_file(client, staff_groups):
    _staff(client, "billing", staff_groups)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("bad.txt", "не выписка".encode("cp1251"))
    response = client.post("/staff/statements/upload/", {"file": bad})
    assert response.status_code == 200
    assert "Файл не принят" in response.content.decode()
    assert not Payment.objects.exists()


def test_statement_upload_refuses_a_file_too_big_for_a_request(client, staff_groups, renewal, settings,
                                                                monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from podpiska.billing.statements.generator import generate_incoming_payment, generate_statement
    from podpiska.staff.forms import StatementUploadForm

    _staff(client, "billing", staff_groups)
    seller = settings.PODPISKA_SELLER
    data = generate_statement(
        [generate_incoming_payment(
            number="1", day=NOW.date(), amount=renewal.price, payer_name="ООО «Ромашка»",
            payer_inn=renewal.requisites["inn"], payee_account=seller["account"],
            payee_bik=seller["bik"], purpose=f"Оплата по счёту № {renewal.invoice.display_number}",
        )],
        account=seller["account"], bank_bik=seller["bik"], date_from=NOW.date(), date_to=NOW.date(),
    )
    monkeypatch.setattr(StatementUploadForm, "MAX_SIZE", len(data) - 1)
    response = client.post("/staff/statements/upload/", {"file": SimpleUploadedFile("big.txt", data)})
    assert "импортируйте этот файл на сервере: podpiska import-statement" in response.content.decode()
    assert response.context["report"] is None
    assert not Payment.objects.exists()
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.AWAITING_PAYMENT
    # A file exactly at the limit is taken.
    monkeypatch.setattr(StatementUploadForm, "MAX_SIZE", len(data))
    response = client.post("/staff/statements/upload/", {"file": SimpleUploadedFile("big.txt", data)})
    assert response.context["report"].matched == 1


def test_statement_upload_report_then_the_queue_fulfils_the_rest(client, staff_groups, renewal, tariffs, clock,
                                                                    settings):
    """One payment names its invoice (confirmed on import); one does not (queued, one click)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from podpiska.billing.statements.generator import generate_incoming_payment, generate_statement
    from tests.factories import make_org

    _staff(client, "billing", staff_groups)
    other_owner = make_user("other@example.com")
    other = make_org(user=other_owner)
    make_subscription(other, tariffs["100"], NOW - timedelta(days=350))
    second = place_order(organization=other, user=other_owner, kind="renew", payment_method="invoice",
                         idempotency_key="renew-2", tariff=tariffs["100"])
    seller = settings.PODPISKA_SELLER
    documents = [
        generate_incoming_payment(
            number="101", day=NOW.date(), amount=renewal.price, payer_name=renewal.requisites["name"],
            payer_inn=renewal.requisites["inn"], payee_account=seller["account"], payee_bik=seller["bik"],
            purpose=f"Оплата по счёту № {renewal.invoice.display_number}. В т. ч. НДС",
        ),
        generate_incoming_payment(
            number="102", day=NOW.date(), amount=second.price, payer_name=other.name, payer_inn=other.inn,
            payee_account=seller["account"], payee_bik=seller["bik"], purpose="Оплата за сервис",
        ),
    ]
    data = generate_statement(documents, account=seller["account"], bank_bik=seller["bik"],
                              date_from=NOW.date(), date_to=NOW.date())
    response = client.post("/staff/statements/upload/", {"file": SimpleUploadedFile("kl_to_1c.txt", data)})
    page = response.content.decode()
    assert "Выписка загружена" in page and "Отчёт об импорте" in page
    report = response.context["report"]
    assert (report.incoming, report.matched, report.queued) == (2, 1, 1)
    assert "— счёт не найден" in page
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.FULFILLED

    queued = Payment.objects.get(state=PaymentState.QUEUED)
    assert f"На счёт № {second.invoice.display_number}" in client.get("/staff/payments/queue/").content.decode()
    client.post(f"/staff/payments/{queued.pk}/match/", {"reference": second.invoice.display_number})
    second.refresh_from_db()
    assert second.status == OrderStatus.FULFILLED

    # The report lists which invoices were credited and which payments were queued, with links.
    credited = page[page.index('data-testid="statement-credited"'):]
    credited = credited[:credited.index("</table>")]
    assert f"№ {renewal.invoice.display_number}" in credited
    assert f'href="/staff/billing/invoice/{renewal.invoice.pk}/change/"' in credited
    assert f'href="/staff/organizations/{renewal.organization_id}/overview/"' in credited
    listed = page[page.index('data-testid="statement-queued"'):]
    listed = listed[:listed.index("</table>")]
    assert f'href="/staff/payments/queue/#payment-{queued.pk}"' in listed
    assert "№ 102" in listed and "счёт не найден" in listed and other.inn in listed
    assert second.invoice.display_number not in credited

    # The same file again credits nothing.
    response = client.post("/staff/statements/upload/", {"file": SimpleUploadedFile("kl_to_1c.txt", data)})
    assert response.context["report"].duplicates == 2
    assert 'data-testid="statement-credited"' not in response.content.decode()  # nothing new credited
    assert Payment.objects.count() == 2


# --- dashboard and overview -----------------------------------------------------------


def test_dashboard_shows_what_needs_attention(client, staff_groups, renewal, org, tariffs):
    _staff(client, "billing", staff_groups)
    record_payment(source="statement", amount=500, received_at=NOW, dedup_key="q1")
    SupportRequest.objects.create(organization=org, subject="Вопрос", message="?", created_at=NOW)
    page = client.get("/staff/").content.decode()
    assert "Заканчиваются в ближайшие 30 дней" in page
    assert str(org) in page and "ожидает оплаты" in page
    assert renewal.tariff_name in page
    # Orders awaiting payment go by their invoice number, as staff and customers speak of them.
    assert f"счёт № {renewal.invoice.display_number}" in page
    assert f"№ {renewal.pk} " not in page
    assert "платежей в очереди разбора" in page

    client.post("/staff/payments/confirm/", {"reference": renewal.invoice.display_number,
                                             "amount": "134400", "doc_date": "2026-11-27", "doc_number": "9"})
    page = client.get("/staff/dashboard/").content.decode()
    assert "134\u00a0400,00\u00a0₽" in page  # revenue this month
    assert "Нет таких подписок" in page  # the renewal is paid now


def test_organization_overview_has_everything(client, staff_groups, renewal, org):
    _staff(client, "billing", staff_groups)
    page = client.get(f"/staff/organizations/{org.pk}/overview/").content.decode()
    for text in [org.inn, "Компас 200", "действует", renewal.invoice.display_number, "ожидает оплаты",
                 "Оформлен заказ", "Выставлен счёт", "Журнал изменений", "Платежей нет"]:
        assert text in page, text
    assert "order.placed" not in page  # the audit log speaks Russian, not codes
    assert client.get("/staff/organizations/999999/overview/").status_code == 404


# --- offers, requests, tariffs ----------------------------------------------------------


def test_staff_makes_and_withdraws_an_offer(client, staff_groups, org, tariffs, clock):
    user = _staff(client, "billing", staff_groups)
    response = client.post(f"/staff/organizations/{org.pk}/offers/new/", {
        "kind": "tariff", "tariff": tariffs["400"].pk, "price": "250 000", "valid_until": "2026-12-15",
    })
    assert response.status_code == 302
    offer = IndividualOffer.objects.get()
    assert offer.price == 250_000_00 and offer.created_by == user and offer.tariff_name == "Компас 400"

    response = client.post(f"/staff/organizations/{org.pk}/offers/new/", {
        "kind": "addon", "valid_until": "2026-12-15",
    }, follow=True)
    assert "Заполните это поле" in response.content.decode()
    assert IndividualOffer.objects.count() == 1

    client.post(f"/staff/offers/{offer.pk}/withdraw/")
    offer.refresh_from_db()
    assert offer.status == IndividualOffer.Status.WITHDRAWN
    assert AuditRecord.objects.filter(action="catalog.offer_withdrawn", actor=user).exists()


def test_limit_request_answered_with_an_addon_offer(client, staff_groups, org, owner, clock, tariffs):
    user = _staff(client, "support", staff_groups)
    request = LimitIncreaseRequest.objects.create(organization=org, user=owner, extra_exports=5000, created_at=NOW)
    assert client.get(f"/staff/limit-requests/{request.pk}/answer/").status_code == 200
    response = client.post(f"/staff/limit-requests/{request.pk}/answer/", {
        "extra_exports": "5000", "price": "40 000,00", "valid_until": "2026-12-31", "answer": "Готовы добавить",
    })
    assert response.status_code == 302
    offer = IndividualOffer.objects.get()
    assert offer.kind == "addon" and offer.addon_exports == 5000 and offer.price == 40_000_00
    request.refresh_from_db()
    assert request.status == "answered" and request.answer == "Готовы добавить"
    assert AuditRecord.objects.filter(action="support.limit_request_answered", actor=user).exists()


def test_limit_request_answer_follows_the_offer_rules_and_is_given_once(staff_groups, org, owner, clock, tariffs):
    from podpiska.support.actions import RequestRefused, answer_limit_request_with_offer

    staff = make_user("support@podpiska.local", is_staff=True)
    request = LimitIncreaseRequest.objects.create(organization=org, user=owner, extra_exports=5000, created_at=NOW)
    today = NOW.date()
    for bad, message in [
        (dict(extra_exports=0, price=40_000_00, valid_until=today), "больше нуля"),
        (dict(extra_exports=5000, price=0, valid_until=today), "больше нуля"),
        (dict(extra_exports=5000, price=40_000_00, valid_until=today - timedelta(days=1)), "уже прошла"),
        (dict(extra_exports=10**12, price=40_000_00, valid_until=today), "не больше"),
    ]:
        with pytest.raises(RequestRefused, match=message):
            answer_limit_request_with_offer(request, staff_user=staff, **bad)
    request.refresh_from_db()
    assert request.status == "open" and not IndividualOffer.objects.exists()
    assert not AuditRecord.objects.filter(action__in=["catalog.offer_created", "support.limit_request_answered"]).exists()

    offer = answer_limit_request_with_offer(request, staff_user=staff, extra_exports=5000, price=40_000_00,
                                            valid_until=today)
    assert offer.limit_request_id == request.pk and offer.kind == "addon"
    with pytest.raises(RequestRefused, match="уже ответили"):
        answer_limit_request_with_offer(request, staff_user=staff, extra_exports=5000, price=40_000_00,
                                        valid_until=today)
    assert IndividualOffer.objects.count() == 1


def test_support_request_answered_in_admin(client, staff_groups, org, clock):
    user = _staff(client, "support", staff_groups)
    request = SupportRequest.objects.create(organization=org, subject="Счёт", message="Где счёт?", created_at=NOW)
    url = f"/staff/support/supportrequest/{request.pk}/change/"
    response = client.post(url, {"status": "answered", "answer": ""})
    assert "напишите ответ" in response.content.decode()
    client.post(url, {"status": "answered", "answer": "Счёт в настройках организации."})
    request.refresh_from_db()
    assert request.status == "answered" and request.answered_at == NOW
    assert AuditRecord.objects.filter(action="support.request_answered", actor=user).exists()


def test_support_answer_is_emailed_to_the_customer(staff_groups, org, owner, clock):
    from django.core import mail

    from podpiska.notifications.email import send_due
    from podpiska.support.actions import answer_support_request

    staff = make_user("support@podpiska.local", is_staff=True)
    request = SupportRequest.objects.create(
        organization=org, user=owner, subject="Счёт", message="Где счёт?", created_at=NOW
    )
    answer_support_request(request, staff_user=staff, status="answered", answer="В настройках.")
    answer_support_request(request, staff_user=staff, status="closed", answer="В настройках.")
    send_due(clock.now())
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert mail.outbox[0].subject == "Ответ поддержки: Счёт"
    assert "В настройках." in mail.outbox[0].body


def test_tariff_created_and_edited_existing_subscriptions_keep_terms(client, staff_groups, tariffs, org, clock):
    user = _staff(client, "billing", staff_groups)
    subscription = make_subscription(org, tariffs["200"], NOW - timedelta(days=10))
    response = client.post(f"/staff/tariffs/{tariffs['200'].pk}/edit/", {
        "code": "200", "name": "Компас 200", "rank": tariffs["200"].rank, "price": "150 000,00",
        "term_months": "12", "export_limit": "12000", "limit_reset": "term", "field_set": "basic",
    })
    assert response.status_code == 302
    tariffs["200"].refresh_from_db()
    assert tariffs["200"].price == 150_000_00 and tariffs["200"].export_limit == 12000
    subscription.refresh_from_db()
    assert subscription.price == 134_400_00 and subscription.export_limit == 10000
    change = AuditRecord.objects.get(action="catalog.tariff_changed", actor=user)
    assert change.before["price"] == 134_400_00 and change.after["price"] == 150_000_00

    response = client.post("/staff/tariffs/new/", {
        "code": "1000", "name": "Компас 1000", "rank": "90", "price": "0",
        "term_months": "12", "export_limit": "1000", "limit_reset": "term", "field_set": "basic",
    })
    assert "не может стоить 0" in response.content.decode()
    client.post("/staff/tariffs/new/", {
        "code": "1000", "name": "Компас 1000", "rank": "90", "price": "30 000",
        "term_months": "12", "export_limit": "1000", "limit_reset": "term", "field_set": "basic",
    })
    assert AuditRecord.objects.filter(action="catalog.tariff_created", actor=user).count() == 1
    response = client.post("/staff/tariffs/new/", {
        "code": "1000", "name": "Дубль", "rank": "91", "price": "1",
        "term_months": "12", "export_limit": "1", "limit_reset": "term", "field_set": "basic",
    })
    assert response.status_code == 200  # the code is taken: shown, nothing saved
    assert not AuditRecord.objects.filter(action="catalog.tariff_created", object_id__isnull=False).exclude(
        after__name="Компас 1000"
    ).exists()


def test_tariff_archived_with_a_successor(client, staff_groups, tariffs, clock):
    user = _staff(client, "billing", staff_groups)
    assert "Компас 100" in client.get("/staff/tariffs/").content.decode()
    client.post(f"/staff/tariffs/{tariffs['100'].pk}/archive/", {"successor": tariffs["200"].pk})
    tariffs["100"].refresh_from_db()
    assert tariffs["100"].is_archived and tariffs["100"].successor == tariffs["200"]
    assert AuditRecord.objects.filter(action="catalog.tariff_archived", actor=user).exists()


def test_support_cannot_archive_tariffs(client, staff_groups, tariffs):
    _staff(client, "support", staff_groups)
    assert client.post(f"/staff/tariffs/{tariffs['100'].pk}/archive/", {}).status_code == 403


# --- time travel ----------------------------------------------------------------------------


def test_clock_moves_forward_and_runs_the_tick(client, staff_groups, settings):
    from podpiska.core import clock

    _staff(client, "billing", staff_groups)
    try:
        response = client.post("/staff/clock/", {"days": "10"})
        assert response.status_code == 200
        assert ClockOffset.objects.get(pk=1).seconds == 10 * 86400
        assert "reminders" in response.content.decode()
        assert client.post("/staff/clock/", {"reset": "1"}).status_code == 302
        assert ClockOffset.objects.get(pk=1).seconds == 0
    finally:
        clock.reset()


def test_clock_is_404_when_the_test_clock_is_off(client, staff_groups, settings):
    settings.PODPISKA = {**settings.PODPISKA, "ALLOW_TEST_CLOCK": False}
    _staff(client, "billing", staff_groups)
    assert client.get("/staff/clock/").status_code == 404
    assert client.post("/staff/clock/", {"days": "1"}).status_code == 404
    assert not ClockOffset.objects.exists()


def test_dates_in_forms_accept_russian_format():
    from podpiska.staff.forms import ManualPaymentForm

    form = ManualPaymentForm(data={"reference": "1", "amount": "1", "doc_date": "01.12.2026", "doc_number": "1"})
    form.is_valid()
    assert form.cleaned_data.get("doc_date") == date(2026, 12, 1)


def test_time_travel_shows_the_end_the_warning_and_the_reminder(client, staff_groups, tariffs, org):
    """The reviewer's walk: a subscription nears its end, the reminder goes, it ends."""
    from django.core import mail

    from podpiska.billing.warnings import WarningState, expiry_warning
    from podpiska.core import clock
    from podpiska.notifications.models import ReminderSent
    from podpiska.subscriptions.timeline import current_subscription

    _staff(client, "billing", staff_groups)
    start = clock.now() - timedelta(days=355)
    subscription = make_subscription(org, tariffs["200"], start)
    try:
        assert expiry_warning(org, clock.now()).state == WarningState.EXPIRING  # 10 days left

        client.post("/staff/clock/", {"days": "4"})  # 6 days left: the 7-day reminder is due
        assert ReminderSent.objects.filter(kind="expiry", offset_days=7).exists()
        assert [m.to for m in mail.outbox] == [["owner@example.com"]]
        assert "Осталось" in mail.outbox[0].body

        client.post("/staff/clock/", {"days": "10"})  # past the end
        assert current_subscription(org, clock.now()) is None
        assert clock.now() >= subscription.ends_at
        assert ReminderSent.objects.filter(kind="event.ended").count() == 1
        assert expiry_warning(org, clock.now()).state == WarningState.NONE
    finally:
        client.post("/staff/clock/", {"reset": "1"})
        clock.reset()


def test_billing_rejects_a_payment_from_the_queue_support_cannot(client, staff_groups, renewal):
    payment, _ = record_payment(source="statement", amount=5_000_00, received_at=NOW, dedup_key="bank-7",
                                payer_name="ООО Чужие")
    url = f"/staff/payments/{payment.pk}/reject/"
    _staff(client, "support", staff_groups)
    assert "Не наш платёж" not in client.get("/staff/payments/queue/").content.decode()
    assert client.post(url, {"note": "чужой"}).status_code == 403
    payment.refresh_from_db()
    assert payment.state == PaymentState.QUEUED

    user = _staff(client, "billing", staff_groups)
    assert "Не наш платёж" in client.get("/staff/payments/queue/").content.decode()
    response = client.post(url, {"note": ""}, follow=True)
    assert "Напишите, почему" in response.content.decode()
    payment.refresh_from_db()
    assert payment.state == PaymentState.QUEUED
    response = client.post(url, {"note": "Ошиблись получателем"}, follow=True)
    assert "убран из очереди" in response.content.decode()
    assert "ООО Чужие" not in response.content.decode()  # gone from the queue
    client.post(url, {"note": "Ошиблись получателем"})
    payment.refresh_from_db()
    assert payment.state == PaymentState.REJECTED and payment.note == "Ошиблись получателем"
    assert AuditRecord.objects.filter(action="payment.rejected", actor=user).count() == 1
    # A rejected payment is never applied by a stray «Зачесть».
    response = client.post(f"/staff/payments/{payment.pk}/match/",
                           {"reference": renewal.invoice.display_number}, follow=True)
    assert "Платёж уже разобран: не наш платёж." in response.content.decode()
    payment.refresh_from_db()
    renewal.refresh_from_db()
    assert payment.state == PaymentState.REJECTED and payment.order_id is None
    assert renewal.status == OrderStatus.AWAITING_PAYMENT
    assert client.post("/staff/payments/999999/reject/", {"note": "x"}).status_code == 404


def test_outbox_shows_a_letter_not_yet_written_by_its_template(client, staff_groups, org, clock):
    from podpiska.notifications.email import queue_emails_later

    _staff(client, "billing", staff_groups)
    queue_emails_later("order_paid", [(["owner@example.com"], {"organization_id": org.pk, "order_id": 0})])
    page = client.get("/staff/notifications/emailmessage/").content.decode()
    assert "«order_paid», будет составлено при отправке" in page and "owner@example.com" in page


def test_demo_statement_is_offered_on_the_upload_page_and_imports(client, staff_groups, renewal):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from podpiska.billing.statements.parser import parse_statement

    _staff(client, "billing", staff_groups)
    page = client.get("/staff/statements/upload/").content.decode()
    assert "/staff/statements/demo.txt" in page and "сейчас их 1" in page
    response = client.get("/staff/statements/demo.txt")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="kl_to_1c_')
    assert len(parse_statement(response.content).documents) == 2
    upload = SimpleUploadedFile("kl_to_1c.txt", response.content)
    report = client.post("/staff/statements/upload/", {"file": upload}).context["report"]
    assert (report.matched, report.queued) == (1, 1)
    renewal.refresh_from_db()
    assert renewal.status == OrderStatus.FULFILLED
    assert "неоплаченных счетов нет" in client.get("/staff/statements/upload/").content.decode()
    # The history of imports words each report as the upload page does, in local time.
    imports = client.get("/staff/billing/statementimport/").content.decode()
    assert "документов 2, входящих 2, зачтено 1, в очередь 1, повторов 0, пропущено 0" in imports
    from django.utils.timezone import localtime

    from podpiska.billing.models import StatementImport

    statement_import = StatementImport.objects.get()
    assert f"{localtime(statement_import.created_at):%d.%m.%Y %H:%M}" in str(statement_import)
    assert localtime(statement_import.created_at).utcoffset().total_seconds() == 3 * 3600


def test_demo_statement_needs_the_import_right_and_the_demo(client, staff_groups, settings):
    _staff(client, "support", staff_groups)
    assert client.get("/staff/statements/demo.txt").status_code == 403
    _staff(client, "billing", staff_groups, email="b@podpiska.local")
    settings.PODPISKA = {**settings.PODPISKA, "ALLOW_TEST_CLOCK": False}
    assert client.get("/staff/statements/demo.txt").status_code == 404
    assert "demo.txt" not in client.get("/staff/statements/upload/").content.decode()


def test_annulled_invoice_is_marked_in_the_overview_and_the_invoice_list(client, staff_groups, renewal, org, owner):
    from podpiska.billing.actions import cancel_order

    cancel_order(renewal, actor=owner)
    _staff(client, "billing", staff_groups)
    page = client.get(f"/staff/organizations/{org.pk}/overview/").content.decode()
    assert 'data-testid="staff-annulled"' in page and "Отменён покупателем" in page
    listing = client.get("/staff/billing/invoice/?annulled_at__isempty=0").content.decode()
    assert renewal.invoice.display_number in listing and "аннулирован" in listing
    assert renewal.invoice.display_number not in client.get(
        "/staff/billing/invoice/?annulled_at__isempty=1"
    ).content.decode()


def test_staff_cancel_action_annuls_the_invoice_with_the_staff_reason(client, staff_groups, renewal):
    _staff(client, "billing", staff_groups)
    response = client.post("/staff/billing/order/", {"action": "cancel", "_selected_action": [renewal.pk]})
    assert response.status_code == 302
    renewal.refresh_from_db()
    assert (renewal.status, renewal.cancel_reason) == ("cancelled", "Отменён сотрудником продавца")
    assert renewal.invoice.annulled_at is not None
    assert renewal.invoice.annulment_reason == "Отменён сотрудником продавца"


def test_audit_log_names_every_action_in_russian(client, staff_groups, renewal, org):
    import ast
    from pathlib import Path

    import podpiska
    from podpiska.audit.names import ACTION_NAMES, action_name

    # Every literal action code the code records has a name (f-strings: the online statuses).
    codes = set()
    for path in Path(podpiska.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "record", "record_many"
            ) and node.args:
                codes |= {n.value for n in ast.walk(node.args[0])
                          if isinstance(n, ast.Constant) and isinstance(n.value, str) and "." in n.value.strip(".")}
    codes |= {"payment.applied", "payment.queued"}  # chosen at run time in settlement
    codes |= {f"online_payment.{status}" for status in OnlinePaymentStatus.values}
    assert codes and codes <= set(ACTION_NAMES), codes - set(ACTION_NAMES)
    assert action_name("order.fulfilled") == "Заказ исполнен"
    assert action_name("something.new") == "something.new"  # unknown: shown as is, not hidden

    _staff(client, "billing", staff_groups)
    listing = client.get("/staff/audit/auditrecord/").content.decode()
    assert "Оформлен заказ" in listing and ">order.placed<" not in listing
    filtered = client.get("/staff/audit/auditrecord/", {"action": "invoice.issued"})
    assert filtered.status_code == 200 and "Выставлен счёт" in filtered.content.decode()
    assert str(AuditRecord.objects.filter(action="order.placed").first()).endswith("Оформлен заказ")


def test_offer_form_marks_each_field_with_its_kind(client, staff_groups, org, tariffs):
    _staff(client, "billing", staff_groups)
    page = client.get(f"/staff/organizations/{org.pk}/overview/").content.decode()
    form = page[page.index('data-testid="offer-form"'):]
    form = form[:form.index("</form>")]
    assert 'data-offer-kinds="addon"><th><label for="id_addon_exports"' in form
    assert 'data-offer-kinds="custom"><th><label for="id_export_limit"' in form
    assert 'data-offer-kinds="tariff custom addon"><th><label for="id_price"' in form
    assert '<tr><th><label for="id_valid_until"' in form  # common to every kind: always shown


def test_payment_queue_field_has_a_label_and_an_example_not_a_fake_value(client, staff_groups, renewal):
    _staff(client, "billing", staff_groups)
    payment, _ = record_payment(source="statement", amount=500, received_at=NOW, dedup_key="q-label")
    page = client.get("/staff/payments/queue/").content.decode()
    assert 'placeholder="2026-00017"' not in page
    assert f'<label for="reference-{payment.pk}">Номер счёта или заказа</label>' in page
    assert f'<tr id="payment-{payment.pk}">' in page  # the statement report links here
    assert "Например, 2026-00017" in page
