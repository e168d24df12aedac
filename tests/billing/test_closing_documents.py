"""Closing documents (УПД): issued with every fulfilment, numbered, frozen, annulled, and
both renditions — every XML produced here is validated against ФНС's schema."""

import io
from datetime import date, timedelta

import pytest
from django.db import transaction
from lxml import etree
from pypdf import PdfReader

from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import record_payment
from podpiska.billing.closing_documents import (
    AnnulRefused,
    annul_closing_document,
    annul_for_order,
)
from podpiska.billing.models import (
    ClosingDocument,
    ClosingDocumentCounter,
    OrderKind,
    OrderStatus,
    Payment,
    PaymentMethod,
    UpdStatus,
)
from podpiska.billing.settlement import Claim, settle
from podpiska.billing.statements.importer import import_statement
from podpiska.billing.upd import upd_data
from podpiska.billing.upd_render import render_upd_pdf
from podpiska.billing.upd_xml import render_upd_xml, xml_filename
from podpiska.catalog.actions import make_offer
from tests import factories
from tests.billing.statements.test_import import invoiced_order, payment, statement
from tests.billing.upd_schema import assert_valid_upd
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def pay(order, *, key=None, **fields):
    fields.setdefault("doc_number", "417")
    fields.setdefault("doc_date", NOW.date())
    return record_payment(
        source="manual", amount=order.price, received_at=NOW, dedup_key=key or f"doc-{order.pk}",
        order=order, **fields,
    )


def xml_of(document) -> etree._Element:
    """The document's XML, validated against the XSD (every test goes through here)."""
    return assert_valid_upd(render_upd_xml(upd_data(document)))


def pdf_text(document) -> str:
    reader = PdfReader(io.BytesIO(render_upd_pdf(document)))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


@pytest.fixture
def current(tariffs, org):
    """Компас 200 ending on 08.12.2026 (Moscow midnight)."""
    return factories.make_subscription(org, tariffs["200"], NOW - timedelta(days=355))


def test_a_paid_renewal_gets_a_upd_dated_the_day_its_term_starts(clock, current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    payment_row, _ = pay(order)
    document = ClosingDocument.objects.get(order=order)
    assert (document.year, document.number, document.display_number) == (2026, 1, "2026-00001")
    assert document.issued_on == date(2026, 12, 8) == document.period_start
    assert document.period_end == date(2027, 12, 7)
    assert document.status == UpdStatus.INVOICE_AND_TRANSFER
    assert (document.total, document.vat_rate, document.vat_amount) == (134_400_00, 22, 24_236_07)
    assert document.buyer == order.requisites and document.seller["inn"] == "7736207543"
    assert (document.payment_id, document.payment_doc_number, document.payment_doc_date) == (
        payment_row.pk, "417", NOW.date(),
    )
    assert "с 08.12.2026 по 07.12.2027" in document.line
    assert AuditRecord.objects.filter(action="closing_document.issued", object_id=str(document.pk)).exists()

    root = xml_of(document)
    doc = root.find("Документ")
    assert doc.get("Функция") == "СЧФДОП" and doc.get("КНД") == "1115131"
    assert root.get("ИдФайл").startswith(f"ON_NSCHFDOPPR_{org.inn}{org.kpp}_7736207543773601001_20261127_")
    assert xml_filename(upd_data(document)) == root.get("ИдФайл") + ".xml"
    invoice_part = doc.find("СвСчФакт")
    assert (invoice_part.get("НомерДок"), invoice_part.get("ДатаДок")) == ("2026-00001", "08.12.2026")
    prd = invoice_part.find("СвПРД")
    assert (prd.get("НомерПРД"), prd.get("ДатаПРД"), prd.get("СуммаПРД")) == ("417", "27.11.2026", "134400.00")
    line = doc.find("ТаблСчФакт/СведТов")
    assert (line.get("НалСт"), line.get("СтТовБезНДС"), line.get("СтТовУчНал")) == ("22%", "110163.93", "134400.00")
    assert line.find("СумНал/СумНал").text == "24236.07"
    buyer = invoice_part.find("СвПокуп/ИдСв/СвЮЛУч")
    assert (buyer.get("ИННЮЛ"), buyer.get("КПП")) == (org.inn, org.kpp)
    transfer = doc.find("СвПродПер/СвПер")
    assert (transfer.get("ДатаНачПер"), transfer.get("ДатаОконПер")) == ("08.12.2026", "07.12.2027")
    assert transfer.find("ОснПер").get("РеквНомерДок") == order.invoice.display_number

    text = pdf_text(document)
    for fragment in ("Универсальный передаточный документ", "2026-00001", "08.12.2026", org.inn,
                     "134 400,00", "24 236,07", "№ 417 от 27.11.2026", "Смирнов А. П.", "Кузнецова М. И."):
        assert fragment in text.replace("\u00a0", " "), fragment


def test_without_vat_the_upd_has_status_2_and_function_dop(clock, current, org, owner, tariffs, order_for, settings):
    settings.PODPISKA_SELLER = {**settings.PODPISKA_SELLER, "vat_rate": None}
    order = order_for(org, owner, tariff=tariffs["200"])
    pay(order)
    document = ClosingDocument.objects.get(order=order)
    assert (document.status, document.vat_rate, document.vat_amount) == (UpdStatus.TRANSFER_ONLY, None, 0)
    doc = xml_of(document).find("Документ")
    assert doc.get("Функция") == "ДОП"
    line = doc.find("ТаблСчФакт/СведТов")
    assert line.get("НалСт") == "без НДС" and line.find("СумНал/БезНДС").text == "без НДС"
    assert line.get("СтТовБезНДС") == line.get("СтТовУчНал") == "134400.00"
    assert "без НДС" in pdf_text(document)


def test_a_lapsed_organization_is_dated_the_day_it_pays(clock, tariffs, org, owner, order_for):
    factories.make_subscription(org, tariffs["100"], NOW - timedelta(days=500))
    order = order_for(org, owner, kind=OrderKind.RESUME, tariff=tariffs["100"])
    clock.shift(timedelta(days=3))
    pay(order)
    document = ClosingDocument.objects.get(order=order)
    assert document.issued_on == date(2026, 11, 30) == document.period_start
    xml_of(document)


def test_an_addon_is_dated_the_payment_day(clock, tariffs, org, owner, order_for):
    factories.make_subscription(org, tariffs["max"], NOW - timedelta(days=30))
    offer = make_offer(organization=org, staff_user=None, valid_until=NOW.date(), addon_exports=20_000,
                       price=90_000_00)
    order = order_for(org, owner, offer=offer)
    assert order.kind == OrderKind.ADDON
    pay(order)
    document = ClosingDocument.objects.get(order=order)
    assert document.issued_on == NOW.date() and document.total == 90_000_00
    assert "+20 000" in document.line
    xml_of(document)


def test_an_entrepreneur_buyer_is_named_as_a_person(clock, tariffs, order_for):
    owner = factories.make_user()
    org = factories.make_org(user=owner, entrepreneur=True, name="Индивидуальный предприниматель Петров Пётр Петрович")
    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    pay(order)
    document = ClosingDocument.objects.get(order=order)
    person = xml_of(document).find("Документ/СвСчФакт/СвПокуп/ИдСв/СвИП")
    assert person.get("ИННФЛ") == org.inn
    assert [person.find("ФИО").get(key) for key in ("Фамилия", "Имя", "Отчество")] == ["Петров", "Пётр", "Петрович"]


def test_a_card_payment_names_the_providers_payment(clock, tariffs, org, owner, order_for):
    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"], method=PaymentMethod.ONLINE)
    provider_id = "2f7c1a9e-000f-5000-9000-1b68d5a6e0c1"
    record_payment(source="online", amount=order.price, received_at=NOW, dedup_key="yk", order=order,
                   provider="yookassa", provider_payment_id=provider_id)
    document = ClosingDocument.objects.get(order=order)
    assert (document.payment_doc_number, document.payment_doc_date) == (provider_id, NOW.date())
    invoice_part = xml_of(document).find("Документ/СвСчФакт")
    # Too long for НомерПРД (30 characters): the id goes to the information field.
    assert invoice_part.find("СвПРД").get("НомерПРД") is None
    assert invoice_part.find("ИнфПолФХЖ1/ТекстИнф").get("Значен") == provider_id
    assert xml_of(document).find("Документ/СвПродПер/СвПер/ОснПер").get("РеквНаимДок") == "Заказ"


def test_text_the_encoding_cannot_carry_still_makes_a_valid_file(clock, tariffs, order_for):
    owner = factories.make_user()
    org = factories.make_org(user=owner, name="ООО «Ёлка 🎄» ☃", legal_address="г. Москва,\tул. Новая\n д. 1")
    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    pay(order)
    root = xml_of(ClosingDocument.objects.get(order=order))
    buyer = root.find("Документ/СвСчФакт/СвПокуп")
    assert buyer.find("ИдСв/СвЮЛУч").get("НаимОрг") == "ООО «Ёлка ?» ?"
    assert buyer.find("Адрес/АдрИнф").get("АдрТекст") == "г. Москва, ул. Новая д. 1"


def test_a_statement_issues_one_numbered_document_per_fulfilled_order(clock, tariffs, order_for):
    orders = [invoiced_order(tariffs, order_for) for _ in range(4)]
    underpaid = orders.pop()
    data = statement([payment(order) for order in orders] + [payment(underpaid, amount=underpaid.price - 1)])
    report = import_statement(data, file_name="day.txt")
    assert report.matched == 3
    documents = list(ClosingDocument.objects.order_by("number"))
    assert [d.order_id for d in documents] == sorted(order.pk for order in orders)
    assert [d.number for d in documents] == [1, 2, 3]
    assert ClosingDocumentCounter.objects.get(year=2026).last_number == 3
    assert not ClosingDocument.objects.filter(order=underpaid).exists()
    for document in documents:
        assert document.payment.doc_number == document.payment_doc_number
        xml_of(document)
    # The same statement again credits nothing and issues nothing.
    import_statement(data, file_name="day.txt")
    assert ClosingDocument.objects.count() == 3


def test_a_second_payment_of_a_paid_order_issues_nothing(clock, current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    pay(order, key="a")
    pay(order, key="b", doc_number="418")
    assert ClosingDocument.objects.filter(order=order).count() == 1
    assert ClosingDocumentCounter.objects.get(year=2026).last_number == 1


def test_numbers_run_per_year_of_the_document_date(clock, tariffs, org, owner, order_for):
    # Paid on 27.11.2026 but starting after a subscription that ends in 2027.
    factories.make_subscription(org, tariffs["200"], NOW - timedelta(days=100))
    later = order_for(org, owner, tariff=tariffs["200"])
    pay(later)
    other_owner = factories.make_user()
    other = factories.make_org(user=other_owner)
    now_order = order_for(other, other_owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    pay(now_order)
    assert ClosingDocument.objects.get(order=later).display_number == "2027-00001"
    assert ClosingDocument.objects.get(order=now_order).display_number == "2026-00001"


def test_a_rolled_back_fulfilment_gives_its_number_back(clock, current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    queued = Payment.objects.create(source="manual", amount=order.price, received_at=NOW, dedup_key="x",
                                    order=order, organization=org, created_at=NOW)
    with pytest.raises(RuntimeError), transaction.atomic():
        settle([Claim(queued.pk, queued.amount, order.pk)])
        assert ClosingDocument.objects.count() == 1
        raise RuntimeError("the caller fails after settling")
    assert not ClosingDocument.objects.exists()
    assert ClosingDocumentCounter.objects.filter(last_number__gt=0).count() == 0
    pay(order, key="again")
    assert ClosingDocument.objects.get().number == 1


# --- annulment --------------------------------------------------------------------------


@pytest.fixture
def issued(clock, current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    pay(order)
    return ClosingDocument.objects.get(order=order)


@pytest.mark.parametrize("reason", ["", "   ", "\x00\x00", "x" * 501, None])
def test_annulment_needs_a_reason(issued, owner, reason):
    with pytest.raises(AnnulRefused):
        annul_closing_document(issued, reason=reason, actor=owner)
    issued.refresh_from_db()
    assert not issued.is_annulled
    assert not AuditRecord.objects.filter(action="closing_document.annulled").exists()


def test_an_annulled_upd_stays_marked_with_its_reason(issued, owner):
    annulled = annul_closing_document(issued, reason="Возврат\x00 оплаты  по заявлению", actor=owner)
    assert annulled.is_annulled and annulled.annul_reason == "Возврат оплаты по заявлению"
    again = annul_closing_document(issued, reason="другая причина", actor=owner)
    assert again.annul_reason == "Возврат оплаты по заявлению" and again.annulled_at == annulled.annulled_at
    assert AuditRecord.objects.filter(action="closing_document.annulled").count() == 1
    assert ClosingDocument.objects.filter(pk=issued.pk).exists()
    text = pdf_text(annulled)
    assert "АННУЛИРОВАН" in text and "Возврат оплаты по заявлению" in text
    info = xml_of(annulled).find("Документ/СвСчФакт/ИнфПолФХЖ1/ТекстИнф")
    assert (info.get("Идентиф"), info.get("Значен")) == ("Аннулирован", "Возврат оплаты по заявлению")


def test_annul_for_order_is_what_an_annulled_order_calls(issued, owner, tariffs, org, order_for):
    assert annul_for_order(issued.order, reason="Заказ аннулирован", actor=owner).is_annulled
    unpaid = order_for(org, owner, kind=OrderKind.UPGRADE, tariff=tariffs["400"])
    assert unpaid.status == OrderStatus.AWAITING_PAYMENT
    assert annul_for_order(unpaid, reason="Заказ аннулирован", actor=owner) is None
