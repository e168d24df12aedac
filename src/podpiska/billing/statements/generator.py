"""Generator of 1CClientBankExchange statements: for tests, the demo and the benchmark.

Documents come as dicts or objects (a parsed `Document` will do) with the field names of
`Document` (plus optional `payer_corr_account`, `payee_corr_account`); the output parses
back to the same documents. Values are written as given: spaces at their ends do not
survive the format, line breaks inside them are refused. Rendering is one f-string per
document, so 100 000 documents take about a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from podpiska.billing.statements.parser import (
    ACCOUNT_END,
    ACCOUNT_START,
    DOCUMENT_END,
    DOCUMENT_START,
    FILE_END,
    SIGNATURE,
)

PAYMENT_ORDER = "Платежное поручение"
# ВидОплаты by document kind (codes of the Bank of Russia's regulation 383-П).
_PAYMENT_CODES = {
    PAYMENT_ORDER: "01",
    "Платежное требование": "02",
    "Инкассовое поручение": "06",
    "Платежный ордер": "16",
    "Банковский ордер": "17",
}
# 1C knows only Windows and DOS; banks that export UTF-8 still write «Windows».
_DECLARED_ENCODING = {
    "cp1251": "Windows",
    "cp866": "DOS",
    "utf-8": "Windows",
    "utf-8-sig": "Windows",
}
_NEWLINES = ("\r\n", "\n", "\r")
# Lines in one rendered document, from СекцияДокумент to КонецДокумента.
_DOCUMENT_LINES = 28
# A sample payer for `generate_incoming_payment`: Sberbank's BIK and an account whose
# control key matches it, so requisite checks downstream accept the generated files.
SAMPLE_PAYER_BIK = "044525225"
SAMPLE_PAYER_BANK = "ПАО Сбербанк"
SAMPLE_PAYER_ACCOUNT = "40702810938000000001"


def format_amount(kopecks: int) -> str:
    """13440000 → '134400.00'; negative balances keep their sign."""
    sign = "-" if kopecks < 0 else ""
    rubles, rest = divmod(abs(kopecks), 100)
    return f"{sign}{rubles}.{rest:02d}"


@lru_cache(maxsize=4096)
def format_date(day: date | None) -> str:
    return "" if day is None else f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def generate_statement(
    documents: Iterable[Mapping[str, Any] | Any],
    *,
    account: str,
    bank_bik: str,
    date_from: date,
    date_to: date,
    encoding: str = "cp1251",
    newline: str = "\r\n",
    version: str = "1.03",
    opening_balance: int = 0,
    sender: str = "",
    receiver: str = "",
    created: datetime | None = None,
) -> bytes:
    """A whole file for `account`: header, one СекцияРасчСчет with totals, the documents.

    A document counts as incoming when its payee account is `account` and as outgoing
    when its payer account is; `bank_bik` fills our side's BIK where a document has none.
    """
    if encoding not in _DECLARED_ENCODING:
        raise ValueError(f"unsupported encoding {encoding!r}")
    if newline not in _NEWLINES:
        raise ValueError(f"unsupported newline {newline!r}")
    blocks: list[str] = []
    total_in = total_out = 0
    for document in documents:
        get = _getter(document)
        block = _render_document(get, account, bank_bik)
        amount = get("amount")
        if get("payee_account", "") == account:
            total_in += amount
        if get("payer_account", "") == account:
            total_out += amount
        blocks.append(block)
    created = created or datetime.now()
    head = _render_head(
        version=version,
        declared=_DECLARED_ENCODING[encoding],
        sender=sender,
        receiver=receiver,
        created=created,
        account=account,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening_balance,
        total_in=total_in,
        total_out=total_out,
    )
    text = "\n".join((head, *blocks, FILE_END, ""))
    if newline != "\n":
        text = text.replace("\n", newline)
    return text.encode(encoding)


def generate_incoming_payment(
    *,
    number: str,
    day: date,
    amount: int,
    purpose: str,
    payer_name: str,
    payer_inn: str,
    payee_account: str,
    payee_bik: str,
    payee_name: str = "",
    payee_inn: str = "",
    payee_kpp: str = "",
    payee_bank: str = "",
    payer_kpp: str = "",
    payer_account: str = SAMPLE_PAYER_ACCOUNT,
    payer_bik: str = SAMPLE_PAYER_BIK,
    payer_bank: str = SAMPLE_PAYER_BANK,
    kind: str = PAYMENT_ORDER,
) -> dict[str, Any]:
    """A payment to us as `generate_statement` takes it: debited and credited on `day`."""
    return {
        "kind": kind,
        "number": number,
        "date": day,
        "amount": amount,
        "payer_account": payer_account,
        "payer_name": payer_name,
        "payer_inn": payer_inn,
        "payer_kpp": payer_kpp,
        "payer_bik": payer_bik,
        "payer_bank": payer_bank,
        "payee_account": payee_account,
        "payee_name": payee_name,
        "payee_inn": payee_inn,
        "payee_kpp": payee_kpp,
        "payee_bik": payee_bik,
        "payee_bank": payee_bank,
        "date_debited": day,
        "date_credited": day,
        "purpose": purpose,
    }


def _getter(document: Mapping[str, Any] | Any) -> Callable[..., Any]:
    if isinstance(document, Mapping):
        return document.get

    def get(name: str, default: Any = None) -> Any:
        return getattr(document, name, default)

    return get


def _render_document(get: Callable[..., Any], account: str, bank_bik: str) -> str:
    kind = get("kind") or PAYMENT_ORDER
    payer_account = get("payer_account", "")
    payee_account = get("payee_account", "")
    payer_bik = get("payer_bik") or (bank_bik if payer_account == account else "")
    payee_bik = get("payee_bik") or (bank_bik if payee_account == account else "")
    payer_name = get("payer_name", "")
    payee_name = get("payee_name", "")
    block = f"""{DOCUMENT_START}={kind}
Номер={get("number")}
Дата={format_date(get("date"))}
Сумма={format_amount(get("amount"))}
ПлательщикСчет={payer_account}
ДатаСписано={format_date(get("date_debited"))}
Плательщик={payer_name}
ПлательщикИНН={get("payer_inn", "")}
ПлательщикКПП={get("payer_kpp", "")}
Плательщик1={payer_name}
ПлательщикРасчСчет={payer_account}
ПлательщикБанк1={get("payer_bank", "")}
ПлательщикБИК={payer_bik}
ПлательщикКорсчет={get("payer_corr_account", "")}
ПолучательСчет={payee_account}
ДатаПоступило={format_date(get("date_credited"))}
Получатель={payee_name}
ПолучательИНН={get("payee_inn", "")}
ПолучательКПП={get("payee_kpp", "")}
Получатель1={payee_name}
ПолучательРасчСчет={payee_account}
ПолучательБанк1={get("payee_bank", "")}
ПолучательБИК={payee_bik}
ПолучательКорсчет={get("payee_corr_account", "")}
ВидОплаты={_PAYMENT_CODES.get(kind, "01")}
Очередность=5
НазначениеПлатежа={get("purpose", "")}
{DOCUMENT_END}"""
    # A line break inside a value would cut the document; one count per block finds it.
    if block.count("\n") != _DOCUMENT_LINES - 1 or "\r" in block:
        raise ValueError(f"line break inside a value of document {get('number')!r}")
    return block


def _render_head(
    *,
    version: str,
    declared: str,
    sender: str,
    receiver: str,
    created: datetime,
    account: str,
    date_from: date,
    date_to: date,
    opening_balance: int,
    total_in: int,
    total_out: int,
) -> str:
    closing_balance = opening_balance + total_in - total_out
    return f"""{SIGNATURE}
ВерсияФормата={version}
Кодировка={declared}
Отправитель={sender}
Получатель={receiver}
ДатаСоздания={format_date(created.date())}
ВремяСоздания={created:%H:%M:%S}
ДатаНачала={format_date(date_from)}
ДатаКонца={format_date(date_to)}
РасчСчет={account}
{ACCOUNT_START}
ДатаНачала={format_date(date_from)}
ДатаКонца={format_date(date_to)}
РасчСчет={account}
НачальныйОстаток={format_amount(opening_balance)}
ВсегоПоступило={format_amount(total_in)}
ВсегоСписано={format_amount(total_out)}
КонечныйОстаток={format_amount(closing_balance)}
{ACCOUNT_END}"""
