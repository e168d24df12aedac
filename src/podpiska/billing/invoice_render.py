"""How an issued invoice looks: one template for the page and the PDF, and the payment QR.

Everything shown is read from the invoice's frozen fields, so the page, the PDF and a
reprint a year later say exactly what the customer was sent.
"""

from datetime import date

import qrcode
import qrcode.constants
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe

from podpiska.billing.invoices import InvoiceState, invoice_state, paid_period, payment_purpose
from podpiska.billing.models import Invoice, OrderKind
from podpiska.billing.warnings import expiry_facts
from podpiska.core.money import amount_in_words, format_amount
from podpiska.subscriptions.timeline import coverage_end

TEMPLATE = "billing/invoice.html"


def _qr_value(value: str) -> str:
    """`|` separates the fields of the QR payload and may not appear inside a value."""
    return " ".join(str(value).replace("|", " ").split())


def qr_payload(invoice: Invoice) -> str:
    """The ГОСТ Р 56042-2014 payment string banks' apps read (ST0001 + 2 = UTF-8).

    The mandatory block (Name, PersonalAcc, BankName, BIC, CorrespAcc) comes first, then
    the payee's INN/KPP, the purpose and the sum in kopecks. A seller without KPP (an
    entrepreneur) leaves the KPP field out rather than sending it empty.
    """
    seller = invoice.seller
    fields = [
        ("Name", seller["name"]),
        ("PersonalAcc", seller["account"]),
        ("BankName", seller["bank"]),
        ("BIC", seller["bik"]),
        ("CorrespAcc", seller["corr_account"]),
        ("PayeeINN", seller["inn"]),
        ("KPP", seller.get("kpp") or ""),
        ("Purpose", payment_purpose(invoice)),
        ("Sum", str(invoice.total)),
    ]
    return "ST00012|" + "|".join(f"{key}={_qr_value(value)}" for key, value in fields if value)


def qr_svg(payload: str) -> str:
    """The QR code as inline SVG (vector: sharp on screen, in print and in the PDF).

    One path of horizontal runs of dark modules: a per-module path (qrcode's own SVG
    factories) is ten times longer and takes WeasyPrint over a second to draw.
    """
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(payload.encode("utf-8"))
    qr.make(fit=True)
    matrix = qr.get_matrix()
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    size = len(matrix)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="QR-код для оплаты">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def vat_label(invoice: Invoice) -> str:
    if not invoice.vat_rate:
        return "Без НДС"
    return f"В том числе НДС ({invoice.vat_rate}\u00a0%)"


def invoice_context(invoice: Invoice, *, for_pdf: bool = False) -> dict:
    total = format_amount(invoice.total)
    payload = qr_payload(invoice)
    return {
        "invoice": invoice,
        "number": invoice.display_number,
        "seller": invoice.seller,
        "seller_is_entrepreneur": len(invoice.seller.get("inn", "")) == 12,
        "buyer": invoice.buyer,
        "lines": [
            {
                "position": 1,
                "name": invoice.line,
                "quantity": 1,
                # Access to the service is sold as a service. The invoice is a Russian legal
                # form whatever language the page around it speaks: no catalogue here.
                "unit": "усл.",
                "price": total,
                "sum": total,
            }
        ],
        "total": total,
        "vat_label": vat_label(invoice),
        "vat_amount": format_amount(invoice.vat_amount) if invoice.vat_rate else "",
        "total_in_words": amount_in_words(invoice.total),
        "purpose": payment_purpose(invoice),
        "qr_payload": payload,
        "qr_svg": mark_safe(qr_svg(payload)),  # generated here, contains no user markup
        "state": invoice_state(invoice),
        # Paid: the period the subscription really got, which may differ from the rule
        # the invoice printed (paid late, or another order paid first).
        "paid_period": paid_period(invoice.order) if invoice_state(invoice) == InvoiceState.PAID else None,
        "payable": invoice_state(invoice) == InvoiceState.PAYABLE,
        "order": invoice.order,
        "pdf_url": reverse("billing:invoice_pdf", args=[invoice.pk]),
        "back_url": reverse("web:settings"),
        "for_pdf": for_pdf,
        "continuity_pay_by": continuity_pay_by(invoice),
    }


def continuity_pay_by(invoice: Invoice) -> date | None:
    """For a renewal issued while paid coverage runs: the last day to pay by transfer so
    that the new subscription follows the current one without a break (the same date
    the yellow warning gives). None when it is past, or later than the pay-by date."""
    order = invoice.order
    if order.kind == OrderKind.ADDON:
        return None
    organization = order.organization
    end = coverage_end(organization, invoice.created_at)
    if end is None:
        return None
    day = expiry_facts(end, organization.tz, invoice.created_at).pay_by_bank_transfer
    return day if invoice.issued_on <= day < invoice.pay_by else None


def render_invoice_html(invoice: Invoice, *, for_pdf: bool = False, request=None) -> str:
    return render_to_string(TEMPLATE, invoice_context(invoice, for_pdf=for_pdf), request=request)


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF from the page's own template (print layout, no buttons)."""
    from weasyprint import HTML  # heavy import, needed only when a PDF is asked for

    # The PDF is the document alone: Russian even when the person reads the site in English.
    with translation.override("ru"):
        html = render_invoice_html(invoice, for_pdf=True)
    return HTML(string=html).write_pdf()


def warm_up_pdf() -> None:
    """Import WeasyPrint and lay out a line in the invoice's font: the first real PDF of
    the process then takes a fraction of a second instead of seconds."""
    from weasyprint import HTML

    HTML(string=(
        '<p style="font-family: \'DejaVu Sans\'">Счёт № 0 <b>Итого</b> '
        '<span style="font-family: \'DejaVu Sans Mono\'">0</span></p>'
    )).write_pdf()


def pdf_filename(invoice: Invoice) -> str:
    return f"schet-{invoice.display_number}.pdf"
