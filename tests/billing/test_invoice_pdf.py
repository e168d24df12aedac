"""The invoice as the customer sees it: page, PDF (its real text), QR payload, access."""

import io
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from podpiska.billing.invoice_render import (
    qr_payload,
    qr_svg,
    render_invoice_html,
    render_invoice_pdf,
)
from podpiska.billing.invoices import issue_invoice, payment_purpose
from podpiska.billing.models import Order, OrderKind, PaymentMethod
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def invoice(clock, tariffs, org, owner):
    order = Order.objects.create(
        **tariffs["400"].terms(),
        organization=org,
        kind=OrderKind.DEFAULT_OFFER,
        tariff=tariffs["400"],
        requisites=org.requisites(),
        payment_method=PaymentMethod.INVOICE,
        idempotency_key="pdf",
        created_by=owner,
        created_at=NOW,
        pay_by=date(2026, 12, 11),
    )
    return issue_invoice(order)


def pdf_text(invoice) -> str:
    reader = PdfReader(io.BytesIO(render_invoice_pdf(invoice)))
    # Text extraction breaks lines where the layout wraps; compare with single spaces.
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("\u00a0", " ").split())


def test_pdf_contains_everything_the_customer_pays_by(invoice, org, settings):
    text = pdf_text(invoice)
    seller = settings.PODPISKA_SELLER
    for expected in (
        "Счёт на оплату № 2026-00001 от 27.11.2026",
        seller["name"],
        f"ИНН {seller['inn']}",
        f"КПП {seller['kpp']}",
        seller["bank"],
        seller["bik"],
        seller["corr_account"],
        seller["account"],
        org.name,
        f"ИНН {org.inn}",
        f"КПП {org.kpp}",
        "Доступ к сервису, тариф «Компас 400», 12 мес. со дня зачисления оплаты",
        "усл.",
        "321 600,00",
        "В том числе НДС (22 %): 57 993,44",
        "Триста двадцать одна тысяча шестьсот рублей 00 копеек",
        "Оплатить до 11.12.2026",
    ):
        assert expected in text, expected
    # The purpose may wrap anywhere in the PDF's narrow box: compare without spaces.
    assert payment_purpose(invoice).replace(" ", "") in text.replace(" ", "")


def test_pdf_without_vat(clock, tariffs, org, settings):
    settings.PODPISKA_SELLER = {**settings.PODPISKA_SELLER, "vat_rate": None}
    order = Order.objects.create(
        **tariffs["100"].terms(),
        organization=org,
        kind=OrderKind.RENEW,
        tariff=tariffs["100"],
        requisites=org.requisites(),
        payment_method=PaymentMethod.INVOICE,
        idempotency_key="novat",
        created_at=NOW,
        pay_by=date(2026, 12, 11),
    )
    text = pdf_text(issue_invoice(order))
    assert "Без НДС" in text
    assert "В том числе НДС" not in text


def test_qr_payload_is_gost_56042(invoice):
    assert qr_payload(invoice) == (
        "ST00012|Name=ООО «Подписка»|PersonalAcc=40702810938000000001|BankName=ПАО Сбербанк"
        "|BIC=044525225|CorrespAcc=30101810400000000225|PayeeINN=7736207543|KPP=773601001"
        "|Purpose=Оплата по счёту № 2026-00001 от 27.11.2026 за доступ к сервису, "
        "тариф «Компас 400». В т. ч. НДС (22 %) 57 993,44 руб.|Sum=32160000"
    )


def test_qr_payload_keeps_field_separators_out_of_values(invoice):
    invoice.seller = {**invoice.seller, "name": "ООО «A|B»", "kpp": ""}
    payload = qr_payload(invoice)
    assert "Name=ООО «A B»|" in payload
    assert "KPP=" not in payload
    assert payload.count("|") == 8


def test_qr_svg_is_inline_vector():
    svg = qr_svg("ST00012|Name=Тест|Sum=100")
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert "width=" not in svg.split(">", 1)[0]


def test_member_sees_the_invoice_page(client, invoice, owner):
    client.force_login(owner)
    response = client.get(reverse("billing:invoice", args=[invoice.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Счёт на оплату № 2026-00001 от 27.11.2026" in html
    assert "Скачать PDF" in html and reverse("billing:invoice_pdf", args=[invoice.pk]) in html
    assert "Скопировать назначение платежа" in html
    assert "<svg " in html


def test_member_downloads_the_pdf(client, invoice, owner):
    client.force_login(owner)
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="schet-2026-00001.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


def test_other_organizations_user_gets_404(client, invoice):
    stranger = factories.make_user()
    factories.make_org(user=stranger)
    client.force_login(stranger)
    assert client.get(reverse("billing:invoice", args=[invoice.pk])).status_code == 404
    assert client.get(reverse("billing:invoice_pdf", args=[invoice.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client, invoice):
    response = client.get(reverse("billing:invoice", args=[invoice.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_sees_any_invoice(client, invoice):
    client.force_login(factories.make_user(is_staff=True))
    assert client.get(reverse("billing:invoice", args=[invoice.pk])).status_code == 200


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")
def test_render_png_for_review(invoice):
    """Writes test-artifacts/invoice.{html,pdf,png} for a person to look at; asserts one page."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "invoice.html").write_text(render_invoice_html(invoice), encoding="utf-8")
    pdf = ARTIFACTS / "invoice.pdf"
    pdf.write_bytes(render_invoice_pdf(invoice))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(ARTIFACTS / "invoice")],
        check=True,
    )
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\b", info), "the invoice must fit one A4 page"


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="needs poppler-utils, zbar"
)
def test_printed_qr_scans_back_to_the_payload(invoice, tmp_path):
    """What a bank app reads from the PDF's QR code is exactly the GOST payload."""
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(render_invoice_pdf(invoice))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    scanned = subprocess.run(
        ["zbarimg", "--raw", "-q", str(tmp_path / "page.png")], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert scanned.strip() == qr_payload(invoice)


def test_entrepreneur_buyer_has_no_kpp(client, clock, tariffs, owner):
    entrepreneur = factories.make_org(user=owner, entrepreneur=True)
    order = Order.objects.create(
        **tariffs["100"].terms(),
        organization=entrepreneur,
        kind=OrderKind.RENEW,
        tariff=tariffs["100"],
        requisites=entrepreneur.requisites(),
        payment_method=PaymentMethod.INVOICE,
        idempotency_key="ip",
        created_at=NOW,
        pay_by=date(2026, 12, 11),
    )
    invoice = issue_invoice(order)
    client.force_login(owner)
    html = client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    buyer_row = html.split("Покупатель:", 1)[1].split("</tr>", 1)[0]
    assert f"ИНН {entrepreneur.inn}" in buyer_row
    assert "КПП" not in buyer_row


def test_paid_invoice_says_so_and_asks_for_no_payment(
    client, clock, tariffs, org, owner, order_for
):
    from podpiska.billing.actions import record_payment

    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    record_payment(
        source="manual", amount=order.price, received_at=NOW, dedup_key="m1", order=order
    )
    client.force_login(owner)
    html = client.get(reverse("billing:invoice", args=[order.invoice.pk])).content.decode()
    assert "Счёт оплачен 27.11.2026" in html
    assert "<svg " not in html and "Скопировать назначение платежа" not in html


def test_expired_invoice_warns_not_to_pay(clock, tariffs, org, owner, order_for):
    from podpiska.billing.actions import expire_overdue_orders

    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    clock.shift(timedelta(days=30))
    assert expire_overdue_orders(clock.now()) == 1
    order.refresh_from_db()
    text = pdf_text(order.invoice)
    assert "Срок оплаты счёта истёк" in text and "Не оплачивайте этот счёт" in text
    assert "Назначение платежа" not in text


def test_annulled_invoice_pdf_says_so_and_invites_no_payment(invoice, owner):
    from podpiska.billing.actions import cancel_order

    cancel_order(invoice.order, actor=owner)
    invoice.refresh_from_db()
    text = pdf_text(invoice)
    assert "АННУЛИРОВАН" in text.upper()
    assert "Счёт аннулирован 27.11.2026: Отменён покупателем." in text
    assert f"Счёт на оплату № {invoice.display_number}" in text  # the number stays
    assert "Назначение платежа" not in text


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")
def test_annulled_invoice_pdf_renders_to_an_image(invoice, owner):
    """The annulled PDF as a picture in test-artifacts/, to look at the stamp."""
    from podpiska.billing.actions import cancel_order

    cancel_order(invoice.order, actor=owner)
    invoice.refresh_from_db()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "invoice-annulled.pdf"
    pdf.write_bytes(render_invoice_pdf(invoice))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(ARTIFACTS / "invoice-annulled")],
        check=True,
    )
    assert (ARTIFACTS / "invoice-annulled.png").stat().st_size > 10_000


def invoice_with_seller(settings, tariffs, org, **seller):
    settings.PODPISKA_SELLER = {**settings.PODPISKA_SELLER, **seller}
    order = Order.objects.create(
        **tariffs["100"].terms(),
        organization=org,
        kind=OrderKind.RENEW,
        tariff=tariffs["100"],
        requisites=org.requisites(),
        payment_method=PaymentMethod.INVOICE,
        idempotency_key="signatures",
        created_at=NOW,
        pay_by=date(2026, 12, 11),
    )
    return issue_invoice(order)


def test_organization_seller_signs_as_director_and_chief_accountant(clock, tariffs, org, settings):
    invoice = invoice_with_seller(
        settings, tariffs, org, head_name="Петров П. П.", accountant_name="Сидорова С. С."
    )
    text = pdf_text(invoice)
    assert "Руководитель Петров П. П." in text
    assert "Главный бухгалтер Сидорова С. С." in text
    assert "Индивидуальный предприниматель" not in text


def test_entrepreneur_seller_signs_alone(clock, tariffs, org, settings):
    invoice = invoice_with_seller(
        settings, tariffs, org, inn="500100732259", kpp="", head_name="Иванов И. И."
    )
    text = pdf_text(invoice)
    assert "Индивидуальный предприниматель Иванов И. И." in text
    assert "Руководитель" not in text and "Главный бухгалтер" not in text


def test_invoice_issued_before_names_were_configured_still_has_signature_lines(invoice):
    # Sellers frozen on older invoices have no names: the lines print blank.
    invoice.seller.pop("head_name", None)
    invoice.seller.pop("accountant_name", None)
    text = pdf_text(invoice)
    assert "Руководитель" in text and "Главный бухгалтер" in text


def test_english_page_around_a_russian_invoice(client, invoice, owner):
    """The invoice is a Russian legal form; the page's own controls follow the language."""
    client.force_login(owner)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert '<html lang="en">' in html
    assert "Print" in html and "Download PDF" in html and "Copy the payment purpose" in html
    document = html.split('<div class="document" lang="ru">', 1)[1]
    assert "Счёт на оплату № 2026-00001 от 27.11.2026" in document
    assert "Банк получателя" in document and "Руководитель" in document
    pdf = client.get(reverse("billing:invoice_pdf", args=[invoice.pk])).content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Банк получателя" in text and "Print" not in text
