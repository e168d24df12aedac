"""One data object per УПД, read from its frozen row: what both renditions print.

The PDF (the printed form of Постановление № 1137 as ФНС letter ММВ-20-3/96@ uses it)
and the XML of ФНС format 5.03 are two views of `UpdData`; neither computes an amount
or a date of its own, so they cannot disagree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from podpiska.billing.invoices import seller_tz
from podpiska.billing.models import ClosingDocument, Invoice, UpdStatus

# Access to the service is sold as a service counted in conventional units (ОКЕИ 876).
UNIT_CODE = "876"
UNIT_NAME = "усл. ед."
CURRENCY_CODE = "643"
CURRENCY_NAME = "Российский рубль"
DOCUMENT_NAME = {
    UpdStatus.INVOICE_AND_TRANSFER: (
        "Счет-фактура и документ об отгрузке товаров (выполнении работ), передаче "
        "имущественных прав (документ об оказании услуг)"
    ),
    UpdStatus.TRANSFER_ONLY: (
        "Документ об отгрузке товаров (выполнении работ), передаче имущественных прав "
        "(документ об оказании услуг)"
    ),
}
FUNCTION = {UpdStatus.INVOICE_AND_TRANSFER: "СЧФДОП", UpdStatus.TRANSFER_ONLY: "ДОП"}
OPERATION = "Услуги оказаны в полном объеме"
ENTREPRENEUR_PREFIXES = ("индивидуальный предприниматель", "ип")


@dataclass(frozen=True)
class Party:
    name: str
    inn: str
    kpp: str
    address: str
    short_name: str = ""

    @property
    def is_entrepreneur(self) -> bool:
        return len(self.inn) == 12

    @property
    def inn_kpp(self) -> str:
        return f"{self.inn}/{self.kpp}" if self.kpp else self.inn

    @property
    def person_name(self) -> tuple[str, str, str]:
        """An entrepreneur's surname, name and patronymic from «ИП Фамилия Имя Отчество»."""
        words = self.name.split()
        lowered = self.name.lower()
        for prefix in ENTREPRENEUR_PREFIXES:
            if lowered.startswith(prefix + " "):
                words = self.name[len(prefix) + 1 :].split()
                break
        words = words or ["-"]
        return words[0], words[1] if len(words) > 1 else "-", " ".join(words[2:])

    @classmethod
    def of(cls, requisites: dict) -> Party:
        return cls(
            name=str(requisites.get("name") or ""),
            inn=str(requisites.get("inn") or ""),
            kpp=str(requisites.get("kpp") or ""),
            address=str(requisites.get("address") or ""),
            short_name=str(requisites.get("short_name") or ""),
        )


@dataclass(frozen=True)
class UpdData:
    document_id: int
    number: str
    date: date
    status: int
    function: str
    document_name: str
    seller: Party
    buyer: Party
    line: str
    unit_code: str
    unit_name: str
    quantity: int
    price_without_vat: int
    total_without_vat: int
    vat_rate: int | None
    vat_amount: int
    total: int
    payment_number: str
    payment_date: date | None
    basis_name: str
    basis_number: str
    basis_date: date
    period_start: date | None
    period_end: date | None
    head_position: str
    head_name: str
    accountant_name: str
    formed_at: datetime
    seller_edo_id: str
    buyer_edo_id: str
    annulled: bool
    annul_reason: str
    annulled_at: datetime | None

    @property
    def file_id(self) -> str:
        """ON_NSCHFDOPPR_<recipient>_<sender>_<YYYYMMDD>_<GUID>: the name ФНС's format
        gives the file. The GUID is derived from the document, so every download of
        one УПД is the same file."""
        guid = uuid.uuid5(uuid.NAMESPACE_URL, f"podpiska:upd:{self.document_id}:{self.number}")
        return (
            f"ON_NSCHFDOPPR_{self.buyer_edo_id}_{self.seller_edo_id}_"
            f"{self.formed_at:%Y%m%d}_{guid}"
        )


def _edo_id(requisites: dict) -> str:
    return str(requisites.get("edo_id") or "") or f"{requisites.get('inn', '')}{requisites.get('kpp', '')}"


def _basis(document: ClosingDocument) -> tuple[str, str, date]:
    """What the service is delivered under: the invoice paid, or the order itself."""
    invoice = Invoice.objects.filter(order_id=document.order_id).first()
    if invoice is not None:
        return "Счет на оплату", invoice.display_number, invoice.issued_on
    order = document.order
    return "Заказ", str(order.pk), order.created_at.astimezone(seller_tz()).date()


def upd_data(document: ClosingDocument) -> UpdData:
    seller = document.seller
    status = UpdStatus(document.status)
    basis_name, basis_number, basis_date = _basis(document)
    without_vat = document.total - document.vat_amount
    return UpdData(
        document_id=document.pk,
        number=document.display_number,
        date=document.issued_on,
        status=status,
        function=FUNCTION[status],
        document_name=DOCUMENT_NAME[status],
        seller=Party.of(seller),
        buyer=Party.of(document.buyer),
        line=document.line,
        unit_code=UNIT_CODE,
        unit_name=UNIT_NAME,
        quantity=1,
        price_without_vat=without_vat,
        total_without_vat=without_vat,
        vat_rate=document.vat_rate,
        vat_amount=document.vat_amount,
        total=document.total,
        payment_number=document.payment_doc_number,
        payment_date=document.payment_doc_date,
        basis_name=basis_name,
        basis_number=basis_number,
        basis_date=basis_date,
        period_start=document.period_start,
        period_end=document.period_end,
        head_position=str(seller.get("head_position") or "Руководитель организации"),
        head_name=str(seller.get("head_name") or ""),
        accountant_name=str(seller.get("accountant_name") or ""),
        formed_at=document.created_at.astimezone(seller_tz()),
        seller_edo_id=_edo_id(seller),
        buyer_edo_id=_edo_id(document.buyer),
        annulled=document.is_annulled,
        annul_reason=document.annul_reason,
        annulled_at=document.annulled_at,
    )
