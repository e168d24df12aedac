"""The УПД as a PDF: the printed form (Постановление № 1137, ФНС letter ММВ-20-3/96@).

Rendered from `UpdData` on request and never stored: the row is frozen, so a reprint a
year later prints what was issued. The form is a legal one in Russian whatever language
the person asking uses.
"""

from django.template.loader import render_to_string
from django.utils import translation

from podpiska.billing.models import ClosingDocument
from podpiska.billing.upd import CURRENCY_CODE, CURRENCY_NAME, UpdData, upd_data
from podpiska.core.money import amount_in_words, format_amount

TEMPLATE = "billing/upd.html"


def initials(full_name: str) -> str:
    """«Смирнов Алексей Петрович» → «Смирнов А. П.», as signature blocks print it."""
    words = full_name.split()
    if not words:
        return ""
    return " ".join([words[0], *(f"{word[0]}." for word in words[1:3])])


def upd_context(data: UpdData) -> dict:
    period = ""
    if data.period_start and data.period_end:
        period = f"Период оказания услуг: с {data.period_start:%d.%m.%Y} по {data.period_end:%d.%m.%Y}"
    return {
        "upd": data,
        "currency": f"{CURRENCY_NAME}, {CURRENCY_CODE}",
        "price_without_vat": format_amount(data.price_without_vat),
        "total_without_vat": format_amount(data.total_without_vat),
        "vat_rate": f"{data.vat_rate}%" if data.vat_rate else "без НДС",
        "vat_amount": format_amount(data.vat_amount) if data.vat_rate else "без НДС",
        "total": format_amount(data.total),
        "total_in_words": amount_in_words(data.total),
        "head_initials": initials(data.head_name),
        "accountant_initials": initials(data.accountant_name),
        "other_details": period or "--",
    }


def render_upd_html(data: UpdData) -> str:
    with translation.override("ru"):
        return render_to_string(TEMPLATE, upd_context(data))


def render_upd_pdf(document: ClosingDocument) -> bytes:
    from weasyprint import HTML  # heavy import, needed only when a PDF is asked for

    return HTML(string=render_upd_html(upd_data(document))).write_pdf()


def pdf_filename(document: ClosingDocument) -> str:
    return f"upd-{document.display_number}.pdf"
