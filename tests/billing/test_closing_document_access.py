"""Who gets the УПД and how: customers' downloads, the «Оплата получена» letter, the
back-office pages and the month's export (every XML validated against the XSD)."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from podpiska.accounts.staff_groups import setup_staff_groups
from podpiska.billing.actions import record_payment
from podpiska.billing.closing_documents import annul_closing_document
from podpiska.billing.models import ClosingDocument, OrderKind, PaymentMethod
from podpiska.notifications.email import send_due
from tests import factories
from tests.billing.upd_schema import assert_valid_upd
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(clock, tariffs, org, owner, order_for):
    """A renewal of Компас 200 paid by bank transfer: its УПД is dated 08.12.2026."""
    factories.make_subscription(org, tariffs["200"], NOW - timedelta(days=355))
    order = order_for(org, owner, tariff=tariffs["200"])
    record_payment(source="manual", amount=order.price, received_at=NOW, dedup_key="p", order=order,
                   doc_number="55", doc_date=NOW.date())
    return ClosingDocument.objects.get(order=order)


def _pdf_url(document):
    return reverse("billing:closing_document_pdf", args=[document.pk])


def _xml_url(document):
    return reverse("billing:closing_document_xml", args=[document.pk])


def test_a_member_downloads_the_pdf_and_the_xml(client, paid, owner):
    client.force_login(owner)
    response = client.get(_pdf_url(paid))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and 'filename="upd-2026-00001.pdf"' in response["Content-Disposition"]
    response = client.get(_xml_url(paid))
    assert response.status_code == 200 and "windows-1251" in response["Content-Type"]
    assert 'filename="ON_NSCHFDOPPR_' in response["Content-Disposition"]
    assert_valid_upd(response.content)


def test_another_organizations_user_and_anonymous_get_nothing(client, paid):
    stranger = factories.make_user()
    factories.make_org(user=stranger)
    client.force_login(stranger)
    assert client.get(_pdf_url(paid)).status_code == 404
    assert client.get(_xml_url(paid)).status_code == 404
    assert client.get("/billing/documents/upd/999999.pdf").status_code == 404
    client.logout()
    response = client.get(_xml_url(paid))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_orders_list_links_the_invoice_and_the_upd(client, paid, owner, tariffs, order_for, org):
    card = order_for(org, owner, kind=OrderKind.UPGRADE, tariff=tariffs["400"], method=PaymentMethod.ONLINE)
    record_payment(source="online", amount=card.price, received_at=NOW, dedup_key="card", order=card,
                   provider="sandbox", provider_payment_id="sb-1")
    card_document = ClosingDocument.objects.get(order=card)
    annul_closing_document(card_document, reason="Возврат по заявлению", actor=None)
    client.force_login(owner)
    html = client.get(reverse("web:settings")).content.decode()
    assert ">УПД</th>" in html and ">Счёт</th>" in html
    for document in (paid, card_document):
        assert f'data-testid="upd-{document.pk}"' in html
        assert _pdf_url(document) in html and _xml_url(document) in html
    assert "оплата картой" in html and "аннулирован" in html and "Возврат по заявлению" in html


def test_the_payment_letter_carries_the_upd_pdf(clock, paid, org):
    send_due(clock.now())
    [letter] = [m for m in mail.outbox if m.subject.startswith("Оплата получена")]
    assert "УПД № 2026-00001 от 08.12.2026" in letter.body
    [(name, content, mimetype)] = letter.attachments
    assert (name, mimetype) == ("upd-2026-00001.pdf", "application/pdf") and content.startswith(b"%PDF")


# --- back-office ------------------------------------------------------------------------


@pytest.fixture
def staff_groups(db):
    return setup_staff_groups()


def _staff(client, group, staff_groups):
    user = factories.make_user(f"{group}@podpiska.local", is_staff=True)
    user.groups.add(staff_groups[group])
    client.force_login(user)
    return user


def test_staff_see_the_upd_in_the_overview_and_the_month(client, paid, staff_groups, org):
    _staff(client, "support", staff_groups)
    html = client.get(reverse("staff:organization_overview", args=[org.pk])).content.decode()
    assert "Закрывающие документы (УПД)" in html and f'data-testid="upd-{paid.pk}"' in html
    assert "Аннулировать" not in html  # support cannot touch money documents
    html = client.get(reverse("staff:closing_documents") + "?month=2026-12").content.decode()
    assert "2026-00001" in html and _xml_url(paid) in html
    assert client.get(_xml_url(paid)).status_code == 200
    response = client.post(reverse("staff:closing_document_annul", args=[paid.pk]), {"reason": "x"})
    assert response.status_code == 403
    paid.refresh_from_db()
    assert not paid.is_annulled


@pytest.mark.parametrize("month", ["2026-13", "0000-01", "26-12", "2026-12\x00", "9" * 5000, ""])
def test_a_bad_month_is_explained_not_a_500(client, paid, staff_groups, month):
    _staff(client, "billing", staff_groups)
    response = client.get(reverse("staff:closing_documents"), {"month": month})
    assert response.status_code == 200
    html = response.content.decode()
    # The reason is shown and the current month listed instead.
    assert 'class="errornote"' in html and "УПД за 11.2026" in html
    assert "Укажите месяц в виде ГГГГ-ММ" in html
    response = client.get(reverse("staff:closing_documents_export", args=["csv"]), {"month": month})
    assert response.status_code == 404


def test_billing_annuls_with_a_reason_and_the_register_shows_it(client, paid, staff_groups, org):
    _staff(client, "billing", staff_groups)
    url = reverse("staff:closing_document_annul", args=[paid.pk])
    response = client.post(url, {"reason": "   "}, follow=True)
    assert "Укажите причину аннулирования" in response.content.decode()
    paid.refresh_from_db()
    assert not paid.is_annulled
    response = client.post(url, {"reason": "Возврат оплаты", "next": "https://evil.example/"})
    assert response["Location"] == reverse("staff:organization_overview", args=[org.pk])
    paid.refresh_from_db()
    assert paid.annul_reason == "Возврат оплаты"

    export = reverse("staff:closing_documents_export", args=["csv"])
    rows = list(csv.reader(io.StringIO(client.get(export, {"month": "2026-12"}).content.decode("utf-8-sig")),
                           delimiter=";"))
    assert rows[0][:4] == ["Дата", "Номер", "Статус УПД", "Покупатель"]
    assert rows[1] == ["08.12.2026", "2026-00001", "1", org.name, org.inn, org.kpp, "134400,00", "22%",
                       "24236,07", "аннулирован: Возврат оплаты"]
    assert len(rows) == 2
    assert len(list(csv.reader(io.StringIO(
        client.get(export, {"month": "2026-11"}).content.decode("utf-8-sig")), delimiter=";"))) == 1


def test_the_month_exports_as_xlsx_and_one_zip(client, paid, staff_groups, org):
    _staff(client, "billing", staff_groups)
    response = client.get(reverse("staff:closing_documents_export", args=["xlsx"]), {"month": "2026-12"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[2]][1:7] == ["2026-00001", 1, org.name, org.inn, org.kpp, 134400]
    assert sheet.cell(2, 9).value == pytest.approx(24236.07)
    response = client.get(reverse("staff:closing_documents_export", args=["zip"]), {"month": "2026-12"})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(archive.namelist())
    assert names[:2] == ["pdf/upd-2026-00001.pdf", "upd-reestr-2026-12.csv"]
    assert "upd-reestr-2026-12.xlsx" in names
    [xml_name] = [name for name in names if name.startswith("xml/ON_NSCHFDOPPR_")]
    assert_valid_upd(archive.read(xml_name))
    assert archive.read("pdf/upd-2026-00001.pdf").startswith(b"%PDF")


def test_a_buyer_name_is_never_a_formula_in_the_register(client, clock, tariffs, order_for, staff_groups):
    owner = factories.make_user()
    org = factories.make_org(user=owner, name="=HYPERLINK(\"http://evil\")")
    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    record_payment(source="manual", amount=order.price, received_at=NOW, dedup_key="f", order=order,
                   doc_number="1", doc_date=NOW.date())
    _staff(client, "billing", staff_groups)
    content = client.get(reverse("staff:closing_documents_export", args=["csv"]), {"month": "2026-11"}).content
    assert "'=HYPERLINK" in content.decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(client.get(
        reverse("staff:closing_documents_export", args=["xlsx"]), {"month": "2026-11"}).content)).active
    assert sheet.cell(2, 4).value.startswith("'=")
    assert_valid_upd(client.get(_xml_url(ClosingDocument.objects.get(order=order))).content)
