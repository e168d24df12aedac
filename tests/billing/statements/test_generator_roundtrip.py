"""Generated statements parse back to exactly the documents they were made from."""

import dataclasses
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podpiska.billing.statements.generator import (
    SAMPLE_PAYER_ACCOUNT,
    SAMPLE_PAYER_BIK,
    format_amount,
    generate_incoming_payment,
    generate_statement,
)
from podpiska.billing.statements.parser import Document, parse_statement
from podpiska.core import limits
from podpiska.core.requisites import validate_account

OURS = "40702810900000054321"
OUR_BIK = "044525974"
CREATED = datetime(2026, 3, 5, 10, 42, 4)
ENCODINGS = ["cp1251", "cp866", "utf-8", "utf-8-sig"]
NEWLINES = ["\r\n", "\n", "\r"]
# What a parsed Document holds besides where it came from (its line and its section).
FIELDS = [
    f.name for f in dataclasses.fields(Document)
    if f.name not in ("line", "file_text", "start", "end")
]


def incoming(number: str, amount: int, **over) -> dict:
    document = generate_incoming_payment(
        number=number,
        day=date(2026, 3, 2),
        amount=amount,
        purpose=f"Оплата по счёту № 2026-{number:0>5} от 27.02.2026. В том числе НДС 22 %",
        payer_name='ООО "Ромашка"',
        payer_inn="7707083893",
        payer_kpp="770701001",
        payee_account=OURS,
        payee_bik=OUR_BIK,
        payee_name='ООО "Подписка"',
        payee_inn="7736207543",
        payee_kpp="773601001",
        payee_bank='АО "ТБанк"',
    )
    return {**document, **over}


DOCUMENTS = [
    incoming("17", 134400_00),
    incoming("18", 1),
    incoming("19", 999999999_99, purpose='Сумма = 999 999 999,99; a=b; "кавычки"'),
    # A foreign payer: junk INN, no BIK, no KPP, credited without a date mark.
    incoming(
        "481554",
        1000_00,
        kind="Банковский ордер",
        payer_name="ACME Trading LLC",
        payer_inn="4",
        payer_kpp="",
        payer_bik="",
        payer_bank="",
        payer_account="30111840500000000001",
        date_debited=None,
        date_credited=None,
        purpose="Payment for invoice 2026-00020",
    ),
    # Outgoing: we pay for hosting.
    incoming(
        "5",
        1520_00,
        kind="Платежное требование",
        date=date(2026, 3, 4),
        payer_account=OURS,
        payer_name='ООО "Подписка"',
        payer_inn="7736207543",
        payer_kpp="773601001",
        payer_bik=OUR_BIK,
        payer_bank='АО "ТБанк"',
        payee_account="40702810100000000999",
        payee_name='ООО "Хостинг"',
        payee_inn="7701234567",
        payee_kpp="",
        payee_bik="044525225",
        payee_bank="ПАО Сбербанк",
        date_debited=date(2026, 3, 4),
        date_credited=None,
        purpose="Оплата хостинга за март",
    ),
]


def generate(documents, encoding="cp1251", newline="\r\n", **over) -> bytes:
    options = dict(
        account=OURS,
        bank_bik=OUR_BIK,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 31),
        encoding=encoding,
        newline=newline,
        created=CREATED,
    )
    return generate_statement(documents, **{**options, **over})


def as_input(document: Document) -> dict:
    return {name: getattr(document, name) for name in FIELDS}


@pytest.mark.parametrize("newline", NEWLINES)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_and_line_ending_round_trips(encoding, newline):
    data = generate(DOCUMENTS, encoding, newline)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert data.count(newline.encode()) == len(data.splitlines())
    statement = parse_statement(data)
    assert statement.encoding == encoding
    assert [as_input(document) for document in statement.documents] == DOCUMENTS
    # A document is 28 lines after a header of 19.
    assert [document.line for document in statement.documents] == [20 + 28 * n for n in range(5)]


def test_the_header_and_the_account_section():
    statement = parse_statement(generate(DOCUMENTS, opening_balance=-500_00, sender="ТБанк"))
    assert statement.header == {
        "ВерсияФормата": "1.03",
        "Кодировка": "Windows",
        "Отправитель": "ТБанк",
        "Получатель": "",
        "ДатаСоздания": "05.03.2026",
        "ВремяСоздания": "10:42:04",
        "ДатаНачала": "01.03.2026",
        "ДатаКонца": "31.03.2026",
        "РасчСчет": OURS,
    }
    assert statement.accounts == [OURS]
    (section,) = statement.account_sections
    total_in = 134400_00 + 1 + 999999999_99 + 1000_00
    assert (section.account, section.date_from, section.date_to) == (
        OURS,
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    assert (section.opening_balance, section.total_in, section.total_out) == (
        -500_00,
        total_in,
        1520_00,
    )
    assert section.closing_balance == -500_00 + total_in - 1520_00


def test_dos_files_say_so():
    assert "Кодировка=DOS\r\n".encode("cp866") in generate(DOCUMENTS, "cp866")
    assert parse_statement(generate(DOCUMENTS, "cp866")).header["Кодировка"] == "DOS"


def test_usual_keys_are_written():
    raw = parse_statement(generate(DOCUMENTS)).documents[0].raw
    assert raw["ВидОплаты"] == "01" and raw["Очередность"] == "5"
    assert raw["Плательщик1"] == raw["Плательщик"] == 'ООО "Ромашка"'
    assert raw["ПолучательРасчСчет"] == raw["ПолучательСчет"] == OURS
    assert raw["Сумма"] == "134400.00" and raw["Дата"] == "02.03.2026"
    kinds = [
        document.raw["ВидОплаты"] for document in parse_statement(generate(DOCUMENTS)).documents
    ]
    assert kinds == ["01", "01", "01", "17", "02"]


def test_parsed_documents_generate_the_same_file():
    data = generate(DOCUMENTS)
    assert generate(parse_statement(data).documents) == data


def test_our_bik_fills_our_side_only():
    bare = {**DOCUMENTS[0], "payee_bik": "", "payer_bik": ""}
    (document,) = parse_statement(generate([bare])).documents
    assert (document.payee_bik, document.payer_bik) == (OUR_BIK, "")


def test_the_sample_payer_has_valid_requisites():
    assert validate_account(SAMPLE_PAYER_ACCOUNT, SAMPLE_PAYER_BIK) == SAMPLE_PAYER_ACCOUNT


def test_a_line_break_inside_a_value_is_refused():
    for value in ("две\nстроки", "две\r\nстроки", "возврат\rкаретки"):
        with pytest.raises(ValueError, match="line break"):
            generate([{**DOCUMENTS[0], "purpose": value}])


def test_unsupported_options_are_refused():
    with pytest.raises(ValueError):
        generate(DOCUMENTS, encoding="koi8-r")
    with pytest.raises(ValueError):
        generate(DOCUMENTS, newline="\n\r")


def test_amount_format():
    assert [format_amount(k) for k in (0, 1, 10, 134400_00, 999999999_99, -12_30)] == [
        "0.00",
        "0.01",
        "0.10",
        "134400.00",
        "999999999.99",
        "-12.30",
    ]


# Letters every supported encoding has (cp866 lacks «» and most typography).
ALPHABET = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-+/()%№\"'=_"
)
text = st.text(alphabet=ALPHABET, max_size=60).map(str.strip)
digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
# Within the sane bounds (core.limits); tests/billing/statements/test_hostile_statements.py
# holds what lies outside them.
days = st.dates(min_value=limits.EARLIEST_BANK_DATE, max_value=date(2099, 12, 31))
documents = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(
            ["Платежное поручение", "Банковский ордер", "Инкассовое поручение"]
        ),
        "number": digits,
        "date": days,
        "amount": st.integers(min_value=0, max_value=limits.MAX_AMOUNT),
        "payer_account": digits,
        "payer_name": text,
        "payer_inn": st.sampled_from(["", "4", "7707083893", "500100732259"]),
        "payer_kpp": st.sampled_from(["", "770701001"]),
        "payer_bik": st.sampled_from(["", "044525225"]),
        "payer_bank": text,
        "payee_account": st.sampled_from([OURS, "40702810100000000999"]),
        "payee_name": text,
        "payee_inn": st.sampled_from(["", "7736207543"]),
        "payee_kpp": st.sampled_from(["", "773601001"]),
        "payee_bik": st.just(OUR_BIK),
        "payee_bank": text,
        "date_debited": st.none() | days,
        "date_credited": st.none() | days,
        "purpose": text,
    }
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(documents, max_size=5),
    st.sampled_from(ENCODINGS),
    st.sampled_from(NEWLINES),
)
def test_any_documents_round_trip(documents, encoding, newline):
    whole_window = {"date_from": limits.EARLIEST_BANK_DATE, "date_to": date(2099, 12, 31)}
    statement = parse_statement(generate(documents, encoding, newline, **whole_window))
    assert [as_input(document) for document in statement.documents] == documents
    incoming = sum(d["amount"] for d in documents if d["payee_account"] == OURS)
    assert statement.account_sections[0].total_in == incoming
