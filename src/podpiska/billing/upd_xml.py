"""The УПД as ФНС format 5.03 XML (приказ ФНС ЕД-7-26/970@, КНД 1115131).

What operators of electronic documents (Диадок, СБИС) accept: the seller's part of the
file ON_NSCHFDOPPR_…, function СЧФДОП (status 1) or ДОП (status 2), in windows-1251
as the format requires. The tests validate every document against the ФНС schema
`ON_NSCHFDOPPR_1_997_01_05_03_05.xsd`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from podpiska.billing.upd import CURRENCY_CODE, CURRENCY_NAME, OPERATION, Party, UpdData
from podpiska.core.money import format_decimal

FORMAT_VERSION = "5.03"
KND = "1115131"
PROGRAM = "Podpiska 1.0"
ENCODING = "windows-1251"
# A KPP as the schema takes it; anything else is left out rather than sent invalid.
KPP_PATTERN = re.compile(r"^([0-9][1-9]|[1-9][0-9])[0-9]{2}[0-9A-Z]{2}[0-9]{3}$")
RUSSIA = ("643", "Россия")
# НомерПРД holds at most 30 characters; a longer id (a card payment's) goes to the
# information field instead.
PAYMENT_NUMBER_MAX = 30


def _text(value: str, limit: int) -> str:
    """A value as the schema takes it: one line, characters windows-1251 can carry."""
    value = " ".join(str(value).split())
    value = value.encode(ENCODING, errors="replace").decode(ENCODING)
    return value[:limit] or "-"


def _day(value) -> str:
    return f"{value:%d.%m.%Y}"


def _participant(parent: ET.Element, tag: str, party: Party) -> None:
    element = ET.SubElement(parent, tag)
    ids = ET.SubElement(element, "ИдСв")
    if party.is_entrepreneur:
        person = ET.SubElement(ids, "СвИП", {"ИННФЛ": party.inn})
        surname, name, patronymic = party.person_name
        fio = {"Фамилия": _text(surname, 60), "Имя": _text(name, 60)}
        if patronymic:
            fio["Отчество"] = _text(patronymic, 60)
        ET.SubElement(person, "ФИО", fio)
    else:
        attributes = {"НаимОрг": _text(party.name, 1000), "ИННЮЛ": party.inn}
        if KPP_PATTERN.match(party.kpp):
            attributes["КПП"] = party.kpp
        ET.SubElement(ids, "СвЮЛУч", attributes)
    address = ET.SubElement(element, "Адрес")
    ET.SubElement(
        address, "АдрИнф",
        {"КодСтр": RUSSIA[0], "НаимСтран": RUSSIA[1], "АдрТекст": _text(party.address, 1000)},
    )


def _fio(parent: ET.Element, full_name: str) -> None:
    words = full_name.split() or ["-"]
    attributes = {"Фамилия": _text(words[0], 60), "Имя": _text(words[1] if len(words) > 1 else "-", 60)}
    if len(words) > 2:
        attributes["Отчество"] = _text(" ".join(words[2:]), 60)
    ET.SubElement(parent, "ФИО", attributes)


def _vat(parent: ET.Element, tag: str, data: UpdData) -> None:
    element = ET.SubElement(parent, tag)
    if data.vat_rate:
        ET.SubElement(element, "СумНал").text = format_decimal(data.vat_amount)
    else:
        ET.SubElement(element, "БезНДС").text = "без НДС"


def upd_tree(data: UpdData) -> ET.Element:
    root = ET.Element(
        "Файл", {"ИдФайл": data.file_id, "ВерсФорм": FORMAT_VERSION, "ВерсПрог": PROGRAM}
    )
    document = ET.SubElement(
        root,
        "Документ",
        {
            "КНД": KND,
            "Функция": data.function,
            "ПоФактХЖ": (
                "Документ об отгрузке товаров (выполнении работ), передаче имущественных "
                "прав (документ об оказании услуг)"
            ),
            "НаимДокОпр": data.document_name,
            "ДатаИнфПр": _day(data.formed_at),
            "ВремИнфПр": f"{data.formed_at:%H.%M.%S}",
            "НаимЭконСубСост": _text(data.seller.name, 1000),
        },
    )
    invoice = ET.SubElement(document, "СвСчФакт", {"НомерДок": data.number, "ДатаДок": _day(data.date)})
    _participant(invoice, "СвПрод", data.seller)
    payment = {"СуммаПРД": format_decimal(data.total)}
    long_payment_number = len(data.payment_number) > PAYMENT_NUMBER_MAX
    if data.payment_number and not long_payment_number:
        payment["НомерПРД"] = _text(data.payment_number, PAYMENT_NUMBER_MAX)
    if data.payment_date:
        payment["ДатаПРД"] = _day(data.payment_date)
    ET.SubElement(invoice, "СвПРД", payment)
    ET.SubElement(
        invoice, "ДокПодтвОтгрНом",
        {"РеквНаимДок": "Универсальный передаточный документ", "РеквНомерДок": data.number,
         "РеквДатаДок": _day(data.date)},
    )
    _participant(invoice, "СвПокуп", data.buyer)
    ET.SubElement(invoice, "ДенИзм", {"КодОКВ": CURRENCY_CODE, "НаимОКВ": CURRENCY_NAME})
    if long_payment_number or data.annulled:
        info = ET.SubElement(invoice, "ИнфПолФХЖ1")
        if long_payment_number:
            ET.SubElement(
                info, "ТекстИнф",
                {"Идентиф": "ИдПлатежа", "Значен": _text(data.payment_number, 2000)},
            )
        if data.annulled:
            ET.SubElement(
                info, "ТекстИнф",
                {"Идентиф": "Аннулирован", "Значен": _text(data.annul_reason, 2000)},
            )

    table = ET.SubElement(document, "ТаблСчФакт")
    line = ET.SubElement(
        table,
        "СведТов",
        {
            "НомСтр": "1",
            "НаимТов": _text(data.line, 2000),
            "ОКЕИ_Тов": data.unit_code,
            "НаимЕдИзм": data.unit_name,
            "КолТов": str(data.quantity),
            "ЦенаТов": format_decimal(data.price_without_vat),
            "СтТовБезНДС": format_decimal(data.total_without_vat),
            "НалСт": f"{data.vat_rate}%" if data.vat_rate else "без НДС",
            "СтТовУчНал": format_decimal(data.total),
        },
    )
    ET.SubElement(line, "ДопСведТов", {"ПрТовРаб": "3"})
    _vat(line, "СумНал", data)
    totals = ET.SubElement(
        table, "ВсегоОпл",
        {"СтТовБезНДСВсего": format_decimal(data.total_without_vat),
         "СтТовУчНалВсего": format_decimal(data.total)},
    )
    _vat(totals, "СумНалВсего", data)

    transfer = ET.SubElement(document, "СвПродПер")
    handed = {"СодОпер": OPERATION, "ДатаПер": _day(data.date)}
    if data.period_start:
        handed["ДатаНачПер"] = _day(data.period_start)
    if data.period_end:
        handed["ДатаОконПер"] = _day(data.period_end)
    details = ET.SubElement(transfer, "СвПер", handed)
    ET.SubElement(
        details, "ОснПер",
        {"РеквНаимДок": data.basis_name, "РеквНомерДок": data.basis_number,
         "РеквДатаДок": _day(data.basis_date)},
    )

    signer = ET.SubElement(
        document, "Подписант",
        {"Должн": _text(data.head_position, 255), "ТипПодпис": "1", "СпосПодтПолном": "1"},
    )
    _fio(signer, data.head_name)
    return root


def render_upd_xml(data: UpdData) -> bytes:
    """The file's bytes: windows-1251 with its XML declaration."""
    tree = upd_tree(data)
    ET.indent(tree)
    return ET.tostring(tree, encoding=ENCODING, xml_declaration=True)


def xml_filename(data: UpdData) -> str:
    return f"{data.file_id}.xml"
