"""The month's closing documents for the seller's accounting: a sales register (XLSX,
CSV) and one ZIP with every УПД as PDF and XML plus the register.

Annulled documents stay in the register, marked with the reason: the numbering has
no gap, and the accountant sees why a number carries no sale.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from podpiska.billing.closing_documents import closing_documents_of_month
from podpiska.billing.models import ClosingDocument
from podpiska.billing.upd import upd_data
from podpiska.billing.upd_render import pdf_filename, render_upd_pdf
from podpiska.billing.upd_xml import render_upd_xml, xml_filename

HEADER = (
    "Дата", "Номер", "Статус УПД", "Покупатель", "ИНН", "КПП", "Сумма, руб.", "Ставка НДС",
    "НДС, руб.", "Состояние",
)
ACTIVE = "действителен"
ANNULLED = "аннулирован"


@dataclass(frozen=True, slots=True)
class RegisterRow:
    issued_on: date
    number: str
    status: int
    buyer: str
    inn: str
    kpp: str
    total: int
    vat_rate: int | None
    vat_amount: int
    state: str

    @classmethod
    def of(cls, document: ClosingDocument) -> RegisterRow:
        state = ACTIVE
        if document.is_annulled:
            state = f"{ANNULLED}: {document.annul_reason}"
        return cls(
            issued_on=document.issued_on,
            number=document.display_number,
            status=document.status,
            buyer=str(document.buyer.get("name") or ""),
            inn=str(document.buyer.get("inn") or ""),
            kpp=str(document.buyer.get("kpp") or ""),
            total=document.total,
            vat_rate=document.vat_rate,
            vat_amount=document.vat_amount,
            state=state,
        )

    @property
    def vat_label(self) -> str:
        return f"{self.vat_rate}%" if self.vat_rate else "без НДС"


def register_rows(year: int, month: int) -> list[RegisterRow]:
    return [RegisterRow.of(document) for document in closing_documents_of_month(year, month)]


def _rubles(kopecks: int) -> Decimal:
    return Decimal(kopecks) / 100


def _safe_cell(text: str) -> str:
    """A buyer's name is typed by the customer: a leading = + - @ would make a
    spreadsheet read it as a formula, so it is quoted as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def register_csv(rows: list[RegisterRow]) -> bytes:
    """UTF-8 with BOM, «;» and decimal commas: what Excel in a Russian locale opens as is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [
                f"{row.issued_on:%d.%m.%Y}", row.number, row.status, _safe_cell(row.buyer), row.inn,
                row.kpp, f"{_rubles(row.total):.2f}".replace(".", ","), row.vat_label,
                f"{_rubles(row.vat_amount):.2f}".replace(".", ",") if row.vat_rate else "без НДС",
                _safe_cell(row.state),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def register_xlsx(rows: list[RegisterRow], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [
                row.issued_on, row.number, row.status, _safe_cell(row.buyer), row.inn, row.kpp,
                _rubles(row.total), row.vat_label,
                _rubles(row.vat_amount) if row.vat_rate else None, _safe_cell(row.state),
            ]
        )
    for index in range(2, len(rows) + 2):
        sheet.cell(index, 1).number_format = "DD.MM.YYYY"
        sheet.cell(index, 7).number_format = "#,##0.00"
        sheet.cell(index, 9).number_format = "#,##0.00"
    if rows:
        count = len(rows) + 1
        sheet.append(["Итого", None, None, None, None, None, f"=SUM(G2:G{count})", None,
                      f"=SUM(I2:I{count})", None])
    for letter, width in zip("ABCDEFGHIJ", (11, 12, 8, 48, 13, 11, 14, 11, 13, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def register_name(year: int, month: int) -> str:
    return f"upd-reestr-{year}-{month:02d}"


def month_zip(year: int, month: int, out) -> None:
    """Write the month's ZIP into the file object `out`: the register (XLSX and CSV),
    then each document's PDF and XML under its number. Documents are rendered one at a
    time, so memory holds one PDF, not the month's."""
    documents = list(closing_documents_of_month(year, month).select_related("order"))
    rows = [RegisterRow.of(document) for document in documents]
    name = register_name(year, month)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.xlsx", register_xlsx(rows, f"{year}-{month:02d}"))
        archive.writestr(f"{name}.csv", register_csv(rows))
        for document in documents:
            data = upd_data(document)
            archive.writestr(f"pdf/{pdf_filename(document)}", render_upd_pdf(document))
            archive.writestr(f"xml/{xml_filename(data)}", render_upd_xml(data))
