"""The 1CClientBankExchange parser on hand-written files: encodings, structure, errors."""

import time
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podpiska.billing.statements.generator import (
    format_amount,
    generate_incoming_payment,
    generate_statement,
)
from podpiska.billing.statements.parser import (
    StatementError,
    decode_statement,
    floor_pass,
    parse_amount,
    parse_date,
    parse_statement,
)

OURS = "40702810900000054321"
OURS_TOO = "40702810500000012345"

# A statement as a bank would send it, one string per line (line N is FIXTURE[N - 1]).
# Trailing spaces and tabs are deliberate; so is the empty line 58 inside a document.
FIXTURE = (
    "1CClientBankExchange",
    "ВерсияФормата=1.03",
    "Кодировка=Windows",
    "Отправитель=Бухгалтерия предприятия, редакция 3.0   ",
    "Получатель=",
    "ДатаСоздания=05.03.2026",
    "ВремяСоздания=10:42:04",
    "ДатаНачала=02.03.2026",
    "ДатаКонца=04.03.2026",
    f"РасчСчет={OURS}",
    f"РасчСчет={OURS_TOO}",
    "СекцияРасчСчет",
    "ДатаНачала=02.03.2026",
    "ДатаКонца=04.03.2026",
    f"РасчСчет={OURS}",
    "НачальныйОстаток=1000.50",
    "ВсегоПоступило=160400.50",
    "ВсегоСписано=1520.00",
    "КонечныйОстаток=159881.00",
    "КонецРасчСчет",
    "СекцияРасчСчет",
    "ДатаНачала=02.03.2026",
    "ДатаКонца=04.03.2026",
    f"РасчСчет={OURS_TOO}",
    "НачальныйОстаток=0",
    "КонечныйОстаток=0.00",
    "КонецРасчСчет",
    "",
    # 29: an ordinary incoming payment order.
    "СекцияДокумент=Платежное поручение",
    "Номер=17   ",
    "Дата=02.03.2026",
    "Сумма=134400.00 \t",
    "ПлательщикСчет=40702810938000000001",
    "ДатаСписано=02.03.2026",
    'Плательщик=ООО "Ромашка"',
    "ПлательщикИНН=7707083893",
    "ПлательщикКПП=770701001",
    "ПлательщикБанк1=ПАО СБЕРБАНК",
    "ПлательщикБанк2=г. Москва",
    "ПлательщикБИК=044525225",
    "ПлательщикКорсчет=30101810400000000225",
    f"ПолучательСчет={OURS}",
    "ДатаПоступило=02.03.2026",
    'Получатель=ООО "Подписка"',
    "ПолучательИНН=7736207543",
    "ПолучательКПП=773601001",
    'ПолучательБанк1=АО "ТБанк"',
    "ПолучательБИК=044525974",
    "ВидОплаты=01",
    "Очередность=5",
    "НазначениеПлатежа=Оплата по счёту № 2026-00017 от 02.03.2026. В том числе НДС 22 % - 24236.07 руб.",
    "КонецДокумента",
    # 53: a foreign payer through the bank's transit account: junk INN, no BIK, no
    # ДатаПоступило, an integer amount, the purpose in continuation lines.
    "СекцияДокумент=Банковский ордер",
    "Номер=481554",
    "Дата=03.03.2026",
    "Сумма=1000",
    "ПлательщикСчет=30111840500000000001",
    "",
    "Плательщик=ACME Trading LLC",
    "ПлательщикИНН=4",
    "ПлательщикБИК=",
    f"ПолучательСчет={OURS}",
    "ДатаПоступило=",
    "ПолучательИНН=7736207543",
    "НазначениеПлатежа1=Payment for invoice",
    "НазначениеПлатежа2=2026-00018",
    "НазначениеПлатежа3=access to the service",
    "КонецДокумента",
    # 69: we paid: outgoing.
    "СекцияДокумент=Платежное требование",
    "Номер=5",
    "Дата=04.03.2026",
    "Сумма=1520.00",
    f"ПлательщикСчет={OURS}",
    "ДатаСписано=04.03.2026",
    'Плательщик=ООО "Подписка"',
    "ПлательщикИНН=7736207543",
    "ПолучательСчет=40702810100000000999",
    "ДатаПоступило=",
    'Получатель=ООО "Хостинг"',
    "ПолучательИНН=7701234567",
    "НазначениеПлатежа=Оплата хостинга за март",
    "КонецДокумента",
    # 83: a person paying; name and account only in the alternative keys.
    "СекцияДокумент=Платежное поручение",
    "Номер=3",
    "Дата=04.03.2026",
    "Сумма=25000.5",
    "ПлательщикРасчСчет=40817810099910004312",
    "Плательщик1=Иванов Иван Иванович",
    "ПлательщикИНН=500100732259",
    f"ПолучательСчет={OURS}",
    "ДатаПоступило=04.03.2026",
    "НазначениеПлатежа=Оплата по счёту № 2026-00019",
    "КонецДокумента",
    "КонецФайла",
)


def encode(lines, encoding="cp1251", newline="\r\n") -> bytes:
    return newline.join(lines).encode(encoding)


def comparable(statement) -> list[tuple]:
    """Everything parsed from the documents, `raw` included, for comparing two parses."""
    return [(document, document.raw) for document in statement.documents]


def test_fixture_header_and_accounts():
    statement = parse_statement(encode(FIXTURE))
    assert statement.encoding == "cp1251"
    assert statement.header["ВерсияФормата"] == "1.03"
    assert statement.header["Отправитель"] == "Бухгалтерия предприятия, редакция 3.0"
    assert statement.header["ДатаНачала"] == "02.03.2026"
    assert statement.accounts == [OURS, OURS_TOO]
    first, second = statement.account_sections
    assert (first.account, first.date_from, first.date_to, first.line) == (
        OURS,
        date(2026, 3, 2),
        date(2026, 3, 4),
        12,
    )
    assert (first.opening_balance, first.total_in, first.total_out, first.closing_balance) == (
        1000_50,
        160400_50,
        1520_00,
        159881_00,
    )
    assert (second.account, second.opening_balance, second.closing_balance, second.line) == (
        OURS_TOO,
        0,
        0,
        21,
    )
    # Missing totals are unknown, not zero.
    assert second.total_in is None and second.total_out is None


def test_fixture_documents():
    documents = parse_statement(encode(FIXTURE)).documents
    assert [(d.kind, d.number, d.line) for d in documents] == [
        ("Платежное поручение", "17", 29),
        ("Банковский ордер", "481554", 53),
        ("Платежное требование", "5", 69),
        ("Платежное поручение", "3", 83),
    ]
    order, foreign, outgoing, person = documents
    assert order.amount == 134400_00
    assert order.date == order.date_debited == order.date_credited == date(2026, 3, 2)
    assert (order.payer_name, order.payer_inn, order.payer_kpp) == (
        'ООО "Ромашка"',
        "7707083893",
        "770701001",
    )
    assert (order.payer_account, order.payer_bik, order.payer_bank) == (
        "40702810938000000001",
        "044525225",
        "ПАО СБЕРБАНК",
    )
    assert (order.payee_account, order.payee_name, order.payee_inn, order.payee_kpp) == (
        OURS,
        'ООО "Подписка"',
        "7736207543",
        "773601001",
    )
    assert (order.payee_bik, order.payee_bank) == ("044525974", 'АО "ТБанк"')
    assert order.purpose.startswith("Оплата по счёту № 2026-00017 от 02.03.2026.")
    assert order.raw["ПлательщикБанк2"] == "г. Москва"

    assert foreign.amount == 1000_00
    assert (foreign.payer_inn, foreign.payer_bik, foreign.payer_kpp) == ("4", "", "")
    assert foreign.date_credited is None and foreign.date_debited is None
    assert foreign.purpose == "Payment for invoice 2026-00018 access to the service"
    assert foreign.raw["НазначениеПлатежа2"] == "2026-00018"
    assert "НазначениеПлатежа" not in foreign.raw

    assert (outgoing.amount, outgoing.payer_account, outgoing.date_credited) == (
        1520_00,
        OURS,
        None,
    )
    assert outgoing.date_debited == date(2026, 3, 4)

    assert person.amount == 25000_50
    assert person.payer_name == "Иванов Иван Иванович"
    assert person.payer_account == "40817810099910004312"


def test_incoming_to_our_accounts():
    order, foreign, outgoing, person = parse_statement(encode(FIXTURE)).documents
    ours = {OURS, OURS_TOO}
    assert order.is_incoming_to(ours) and person.is_incoming_to(ours)
    # No ДатаПоступило, but the money came from outside.
    assert foreign.is_incoming_to(ours)
    assert not outgoing.is_incoming_to(ours)
    assert not order.is_incoming_to({OURS_TOO})


def test_a_transfer_between_our_accounts_without_a_credit_mark_is_not_incoming():
    text = (
        encode(FIXTURE)
        .decode("cp1251")
        .replace("ПлательщикСчет=30111840500000000001", f"ПлательщикСчет={OURS_TOO}")
    )
    foreign = parse_statement(text.encode("cp1251")).documents[1]
    assert not foreign.is_incoming_to({OURS, OURS_TOO})
    assert foreign.is_incoming_to({OURS})


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_endings_do_not_matter(newline):
    reference = parse_statement(encode(FIXTURE))
    statement = parse_statement(encode(FIXTURE, newline=newline))
    assert comparable(statement) == comparable(reference)
    assert statement.account_sections == reference.account_sections


def test_mixed_line_endings_count_lines_as_an_editor_does():
    data = (
        "\r\n".join(FIXTURE[:40]).encode("cp1251")
        + b"\n"
        + "\r".join(FIXTURE[40:]).encode("cp1251")
    )
    statement = parse_statement(data)
    assert comparable(statement) == comparable(parse_statement(encode(FIXTURE)))


def test_utf8_with_bom_while_the_header_says_windows():
    data = b"\xef\xbb\xbf" + encode(FIXTURE, "utf-8")
    statement = parse_statement(data)
    assert statement.encoding == "utf-8-sig"
    assert statement.header["Кодировка"] == "Windows"
    assert comparable(statement) == comparable(parse_statement(encode(FIXTURE)))


def test_utf8_without_bom():
    statement = parse_statement(encode(FIXTURE, "utf-8", "\n"))
    assert statement.encoding == "utf-8"
    assert comparable(statement) == comparable(parse_statement(encode(FIXTURE)))


def test_cp866_file():
    lines = tuple(line.replace("Кодировка=Windows", "Кодировка=DOS") for line in FIXTURE)
    statement = parse_statement(encode(lines, "cp866"))
    assert statement.encoding == "cp866"
    assert statement.header["Кодировка"] == "DOS"
    assert statement.documents[0].payer_name == 'ООО "Ромашка"'
    assert comparable(statement) == comparable(parse_statement(encode(FIXTURE)))


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [("cp866", "Windows"), ("cp1251", "DOS"), ("cp866", "UTF-8"), ("cp1251", "")],
)
def test_the_bytes_decide_the_encoding_not_the_header(encoding, declared):
    lines = tuple(line.replace("Кодировка=Windows", f"Кодировка={declared}") for line in FIXTURE)
    statement = parse_statement(encode(lines, encoding))
    assert statement.encoding == encoding
    assert statement.documents[1].purpose == "Payment for invoice 2026-00018 access to the service"
    assert statement.documents[2].payee_name == 'ООО "Хостинг"'


def test_single_byte_text_without_marker_words_is_judged_by_its_letters():
    data = "Плательщик оплатил счёт за доступ к сервису".encode("cp866")
    assert decode_statement(data) == ("Плательщик оплатил счёт за доступ к сервису", "cp866")
    data = "Плательщик оплатил счёт за доступ к сервису".encode("cp1251")
    assert decode_statement(data)[1] == "cp1251"


def test_a_utf8_letter_cut_in_half_does_not_turn_the_file_into_cp1251():
    text = "\r\n".join(FIXTURE)
    data = text.encode("utf-8").replace("Оплата хостинга".encode(), "Оплата хостинга".encode()[:-1])
    statement = parse_statement(data)
    assert statement.encoding == "utf-8"
    assert statement.documents[2].purpose == "Оплата хостинг\ufffd за март"


def test_spaces_around_the_equals_sign_and_at_line_starts_are_ignored():
    loose = tuple(
        "  " + line.replace("=", " = ", 1) if line.startswith(("Номер", "Сумма", "Дата=")) else line
        for line in FIXTURE
    )
    loose = loose[:28] + ("\tСекцияДокумент = Платежное поручение",) + loose[29:]
    assert comparable(parse_statement(encode(loose))) == comparable(
        parse_statement(encode(FIXTURE))
    )


def test_a_statement_without_documents():
    statement = parse_statement(encode(FIXTURE[:28] + ("КонецФайла",)))
    assert statement.documents == [] and len(statement.account_sections) == 2


def test_padding_after_the_end_of_file_is_ignored():
    data = encode(FIXTURE) + b"\r\n\r\n\x1a"
    assert len(parse_statement(data).documents) == 4


def test_floor_pass_counts_lines():
    assert floor_pass(encode(FIXTURE)) == len(FIXTURE)
    assert floor_pass(encode(FIXTURE, "utf-8", "\n") + b"\n") == len(FIXTURE) + 1


# --- amounts and dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [
        ("0.01", 1),
        ("134400.00", 134400_00),
        ("1000", 1000_00),
        ("999999999.99", 999999999_99),
        ("1000.5", 1000_50),
        ("1000,50", 1000_50),
        ("1 000,50", 1000_50),
        ("1\xa0000.05", 1000_05),
        ("0", 0),
        ("-12.30", -12_30),
    ],
)
def test_amounts_are_exact_kopecks(text, kopecks):
    assert parse_amount(text) == kopecks


@pytest.mark.parametrize(
    "text", ["", "-", "abc", "1.234", "1,2.3", "1e3", "1.", ".50", "١٢", "²", "12а", "+5", "1-0"]
)
def test_unreadable_amounts(text):
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [("0.01", 1), ("134400.00", 134400_00), ("1000", 1000_00), ("999999999.99", 999999999_99)],
)
def test_document_amounts_in_kopecks(text, kopecks):
    lines = FIXTURE[:31] + (f"Сумма={text}",) + FIXTURE[32:]
    assert parse_statement(encode(lines)).documents[0].amount == kopecks


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_formatted_amounts_parse_back(kopecks):
    assert parse_amount(format_amount(kopecks)) == kopecks


@given(st.integers(min_value=0, max_value=10**13), st.sampled_from([".", ","]), st.booleans())
def test_amounts_written_by_people_parse(kopecks, decimal_mark, grouped):
    rubles, rest = divmod(kopecks, 100)
    whole = f"{rubles:,}".replace(",", " ") if grouped else str(rubles)
    assert parse_amount(f"{whole}{decimal_mark}{rest:02d}") == kopecks
    if rest % 10 == 0:
        assert parse_amount(f"{whole}{decimal_mark}{rest // 10}") == kopecks
    if rest == 0:
        assert parse_amount(whole) == kopecks


def test_dates():
    assert parse_date("29.02.2024") == date(2024, 2, 29)
    for text in ("29.02.2026", "2026-03-02", "2.3.2026", "02.03.26", "02/03/2026", "аа.03.2026"):
        with pytest.raises(ValueError):
            parse_date(text)


# --- errors ------------------------------------------------------------------------------

HEAD = ("1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows")
DOC = (
    "СекцияДокумент=Платежное поручение",
    "Номер=1",
    "Дата=02.03.2026",
    "Сумма=100.00",
    "КонецДокумента",
)
ACCOUNT = ("СекцияРасчСчет", f"РасчСчет={OURS}", "НачальныйОстаток=0.00", "КонецРасчСчет")


def unclosed(doc=DOC):
    return doc[:-1]


ERRORS = {
    "not a statement": (("", "", "<html>", *HEAD[1:], "КонецФайла"), 3, "не выписка"),
    "only empty lines": (("", "  ", ""), 1, "файл пуст"),
    "document before document": ((*HEAD, *unclosed(), *DOC, "КонецФайла"), 8, "не закрыта"),
    "document before account": ((*HEAD, *unclosed(), *ACCOUNT, "КонецФайла"), 8, "не закрыта"),
    "document before end of file": ((*HEAD, *DOC, *unclosed(), "КонецФайла"), 13, "не закрыта"),
    "account before document": ((*HEAD, *ACCOUNT[:-1], *DOC, "КонецФайла"), 7, "не закрыта"),
    "wrong end marker": ((*HEAD, *unclosed(), "КонецРасчСчет", "КонецФайла"), 8, "не закрыта"),
    "truncated in a document": ((*HEAD, *DOC, *DOC[:3], ""), 11, "оборван"),
    "truncated in an account": ((*HEAD, *ACCOUNT[:2]), 5, "оборван"),
    "no end of file": ((*HEAD, *DOC, "", ""), 8, "нет строки КонецФайла"),
    "bad amount": ((*HEAD, *DOC[:3], "Сумма=12а", "КонецДокумента", "КонецФайла"), 7, "Сумма"),
    "three decimals": (
        (*HEAD, *DOC[:3], "Сумма=1.005", "КонецДокумента", "КонецФайла"),
        7,
        "неверная сумма",
    ),
    "negative amount": (
        (*HEAD, *DOC[:3], "Сумма=-1.00", "КонецДокумента", "КонецФайла"),
        7,
        "отрицательная",
    ),
    "bad date": (
        (*HEAD, DOC[0], DOC[1], "Дата=31.02.2026", *DOC[3:], "КонецФайла"),
        6,
        "неверная дата в поле Дата",
    ),
    "bad credit date": (
        (*HEAD, *DOC[:4], "ДатаПоступило=2026-03-02", DOC[4], "КонецФайла"),
        8,
        "ДатаПоступило",
    ),
    "no amount": ((*HEAD, *DOC[:3], DOC[4], "КонецФайла"), 4, "нет обязательного поля Сумма"),
    "no number": ((*HEAD, DOC[0], *DOC[2:], "КонецФайла"), 4, "нет обязательного поля Номер"),
    "empty date": (
        (*HEAD, DOC[0], DOC[1], "Дата=", *DOC[3:], "КонецФайла"),
        6,
        "пустое обязательное поле Дата",
    ),
    "line without =": ((*HEAD, *DOC[:2], "Просто текст", *DOC[2:], "КонецФайла"), 6, "без «=»"),
    "stray end of document": (
        (*HEAD, *DOC, "КонецДокумента", "КонецФайла"),
        9,
        "без начала секции",
    ),
    "key between sections": ((*HEAD, *DOC, "Номер=2", "КонецФайла"), 9, "вне секции"),
    "text between sections": ((*HEAD, *DOC, "мусор", "КонецФайла"), 9, "вне секции"),
    "account without number": (
        (*HEAD, "СекцияРасчСчет", "НачальныйОстаток=0", "КонецРасчСчет", "КонецФайла"),
        4,
        "РасчСчет",
    ),
    "bad balance": (
        (*HEAD, *ACCOUNT[:2], "НачальныйОстаток=много", *ACCOUNT[3:], "КонецФайла"),
        6,
        "НачальныйОстаток",
    ),
    "data after end of file": ((*HEAD, *DOC, "КонецФайла", "", *DOC), 11, "после КонецФайла"),
    # Empty lines inside sections are counted too (the careful path).
    "after empty lines": (
        (*HEAD, *DOC[:2], "", "", DOC[2], "Сумма=x", DOC[4], "КонецФайла"),
        9,
        "Сумма",
    ),
    "in a later document": (
        (*HEAD, *DOC, *ACCOUNT, *DOC[:3], "Сумма=?", DOC[4], "КонецФайла"),
        16,
        "Сумма",
    ),
}


@pytest.mark.parametrize(("lines", "line", "message"), ERRORS.values(), ids=ERRORS.keys())
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_errors_name_the_line(lines, line, message, newline):
    with pytest.raises(StatementError) as caught:
        parse_statement(encode(lines, newline=newline))
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value).startswith(f"строка {line}: ")


def test_errors_in_the_fixture_name_the_line():
    for number, replacement, message in (
        (32, "Сумма=134 400.001", "неверная сумма"),
        (67, "НазначениеПлатежа3", "без «=»"),
        (93, "СекцияРасчСчет", "не закрыта"),
    ):
        lines = FIXTURE[: number - 1] + (replacement,) + FIXTURE[number:]
        with pytest.raises(StatementError) as caught:
            parse_statement(encode(lines))
        assert (caught.value.line, message in caught.value.message) == (number, True)


def test_an_empty_file():
    with pytest.raises(StatementError) as caught:
        parse_statement(b"")
    assert caught.value.line == 1


def test_a_binary_file():
    with pytest.raises(StatementError) as caught:
        parse_statement(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert caught.value.line == 1 and "не выписка" in caught.value.message


def many_payments(count: int, *, first: int = 1) -> bytes:
    """A statement of `count` payments of the same layout, numbered from `first`."""
    payment = generate_incoming_payment(
        number="1",
        day=date(2026, 3, 2),
        amount=134400_00,
        purpose="Оплата по счёту № 2026-00017 от 02.03.2026. В том числе НДС 22 %",
        payer_name='ООО "Ромашка"',
        payer_inn="7707083893",
        payee_account=OURS,
        payee_bik="044525974",
    )
    return generate_statement(
        [{**payment, "number": str(n)} for n in range(first, first + count)],
        account=OURS,
        bank_bik="044525974",
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 31),
    )


def test_documents_share_the_text_instead_of_copying_their_sections():
    """A year's statement is 100 000 sections: each document points into the one
    decoded text, however it was read."""
    data = many_payments(50)
    parsed = parse_statement(data).documents
    assert len(parsed) == 50
    assert len({id(document.file_text) for document in parsed}) == 1
    for n, document in enumerate(parsed, 1):
        assert document.source.startswith("Номер=") or "\nНомер=" in document.source
        assert document.raw["Номер"] == str(n)
        assert document.raw["Сумма"] == "134400.00"
        assert "СекцияДокумент" not in document.source
        assert "КонецДокумента" not in document.source


# --- speed -------------------------------------------------------------------------------


def test_parsing_stays_near_the_floor():
    """A guard against quadratic work: generous, since CI machines are shared."""
    data = many_payments(20_000, first=0)

    def best(action) -> float:
        times = []
        for _ in range(3):
            started = time.process_time()
            result = action(data)
            times.append(time.process_time() - started)
            del result
        return min(times)

    assert len(parse_statement(data).documents) == 20_000
    assert best(parse_statement) < 5 * best(floor_pass)
