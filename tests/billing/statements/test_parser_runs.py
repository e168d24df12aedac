"""The parser on runs of documents of one kind: loose spaces, errors far into a file.

After two documents of a kind with the same keys, the next ones of that kind are read
by one match of a pattern of those keys; whatever that pattern reads is read line by
line as well, and a document must come out the same either way: alone in a file (read
line by line) and in a run (by the pattern).
"""

import dataclasses

import pytest

from podpiska.billing.statements import parser
from podpiska.billing.statements.parser import StatementError, parse_statement

HEAD = (
    "1CClientBankExchange",
    "ВерсияФормата=1.03",
    "Кодировка=Windows",
    "РасчСчет=40702810900000054321",
    "СекцияРасчСчет",
    "РасчСчет=40702810900000054321",
    "НачальныйОстаток=0.00",
    "КонецРасчСчет",
)
# A document is 21 lines; the n-th one (from 0) opens at line 9 + 21 * n.
FIRST, SPAN = 9, 21


def document(n: int, **changes: str | None) -> list[str]:
    """A document's lines; a change of None drops the key, a new key is added at the end."""
    fields = {
        "Номер": str(n),
        "Дата": "02.03.2026",
        "Сумма": f"{1000 + n}.{n % 100:02d}",
        "ПлательщикСчет": "40702810938000000001",
        "ДатаСписано": "02.03.2026",
        "Плательщик": f"ООО «Клиент {n}»",
        "ПлательщикИНН": "7707083893",
        "ПлательщикКПП": "",
        "Плательщик1": f"Клиент {n}",
        "ПлательщикРасчСчет": "40702810938000000002",
        "ПлательщикБанк1": "ПАО СБЕРБАНК",
        "ПлательщикБИК": "044525225",
        "ПолучательСчет": "40702810900000054321",
        "ДатаПоступило": "02.03.2026",
        "Получатель": "",
        "Получатель1": "ООО «Подписка»",
        "ПолучательИНН": "7736207543",
        "ПолучательБИК": "044525974",
        "НазначениеПлатежа": f"Оплата по счёту № 2026-{n:05d}, в т.ч. НДС",
    }
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return [
        "СекцияДокумент=Платежное поручение",
        *(f"{key}={value}" for key, value in fields.items()),
        "КонецДокумента",
    ]


def statement(*documents: list[str], end: tuple[str, ...] = ("КонецФайла",)) -> list[str]:
    return [*HEAD, *(line for lines in documents for line in lines), *end]


def encode(lines: list[str], newline: str = "\r\n", encoding: str = "cp1251") -> bytes:
    return newline.join(lines).encode(encoding)


def many(count: int = 8, **changes_at: dict[str, str | None]) -> list[list[str]]:
    """`count` documents; `changes_at["d3"]` changes the document number 3."""
    return [document(n, **changes_at.get(f"d{n}", {})) for n in range(count)]


def outcome(data: bytes):
    """The documents with where they are read from, or the error."""
    try:
        statement = parse_statement(data)
    except StatementError as error:
        return ("error", error.line, error.message)
    return [(document, document.line, document.source, document.raw) for document in statement.documents]


def as_if_first(result):
    """An outcome with line numbers counted from the document's own opening line."""
    if result[0] == "error":
        return result
    return [
        (dataclasses.replace(document, line=FIRST), FIRST, source, raw)
        for document, line, source, raw in result
    ]


@pytest.fixture
def matched(monkeypatch) -> list[int]:
    """Counts the sections read by a layout's pattern."""
    counts = [0]
    compile_layout = parser._compile_layout

    class Counting:
        def __init__(self, pattern):
            self.pattern = pattern

        def match(self, text, pos):
            found = self.pattern.match(text, pos)
            counts[0] += found is not None
            return found

    def counting(keys, newline):
        layout = compile_layout(keys, newline)
        return layout._replace(pattern=Counting(layout.pattern))

    monkeypatch.setattr(parser, "_compile_layout", counting)
    return counts


def test_a_run_reads_by_the_layout_with_its_lines_and_sources(matched):
    documents = outcome(encode(statement(*many(50))))
    # Two documents read line by line make the layout; it reads the other 48.
    assert matched == [48]
    assert [line for _, line, *_ in documents][:3] == [FIRST, FIRST + SPAN, FIRST + 2 * SPAN]
    seventh, _, source, raw = documents[7]
    assert (seventh.number, seventh.amount, seventh.payee_name) == ("7", 1007_07, "ООО «Подписка»")
    assert source.startswith("Номер=7\r\nДата=02.03.2026\r\n") and source.endswith("в т.ч. НДС")
    assert raw["Плательщик1"] == "Клиент 7" and len(raw) == SPAN - 2


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"Сумма": "1000"},
        {"Сумма": "25000.5"},
        {"Сумма": "1 000,50"},
        {"Сумма": "999999999.99"},
        {"Дата": "05.03.2026"},
        {"ДатаПоступило": "", "ДатаСписано": "03.03.2026"},
        {"ПлательщикСчет": "", "Плательщик": ""},
        {"ПолучательСчет": "", "Получатель1": ""},
        {"НазначениеПлатежа": "a = b == c"},
        {"НазначениеПлатежа": ""},
        {"Получатель": "ООО «Другой»"},
        # Errors: the same message at the same line of the document.
        {"Сумма": "12а"},
        {"Сумма": "-1.00"},
        {"Сумма": ""},
        {"Сумма": "１２.00"},
        {"Сумма": "1" * 19 + ".00"},
        {"Сумма": "1000000000.01"},
        {"Номер": ""},
        {"Дата": ""},
        {"Дата": "31.02.2026"},
        {"Дата": "01.01.0001"},
        {"ДатаПоступило": "2026-03-02"},
        {"Плательщик": "ООО\x00"},
    ],
)
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_a_document_reads_the_same_by_the_layout_as_line_by_line(changes, newline, matched):
    alone = outcome(encode(statement(document(6, **changes)), newline, "utf-8"))
    assert matched == [0]
    in_a_run = outcome(encode(statement(*many(8, d6=changes)), newline, "utf-8"))
    assert matched[0] >= 4
    if alone[0] == "error":
        assert in_a_run[:3:2] == alone[:3:2]
        assert in_a_run[1] - 6 * SPAN == alone[1]
    else:
        assert as_if_first(in_a_run[6:7]) == as_if_first(alone)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Сумма": "12а"}, "неверная сумма"),
        ({"Сумма": "-1.00"}, "отрицательная"),
        ({"Сумма": ""}, "пустое обязательное поле Сумма"),
        ({"Номер": ""}, "пустое обязательное поле Номер"),
        ({"Дата": "31.02.2026"}, "неверная дата"),
        ({"ДатаПоступило": "2026-03-02"}, "ДатаПоступило"),
    ],
)
def test_errors_in_a_run_name_the_line(changes, message):
    result = outcome(encode(statement(*many(8, d5=changes)), encoding="utf-8"))
    assert result[0] == "error" and message in result[2]
    lines = statement(*many(8, d5=changes))
    key = next(iter(changes))
    assert lines[result[1] - 1].startswith(f"{key}=") and result[1] > 5 * SPAN


def test_other_layouts_and_kinds_in_between():
    documents = many(30)
    for n in range(10, 30, 3):
        documents[n] = document(n, ПлательщикКПП=None, ВидОплаты="01")
    documents[20] = document(20, НазначениеПлатежа=None, НазначениеПлатежа1="часть", НазначениеПлатежа3="три")
    for n in range(1, 30, 4):
        documents[n][0] = "СекцияДокумент=Банковский ордер"
    parsed = parse_statement(encode(statement(*documents))).documents
    assert [d.number for d in parsed] == [str(n) for n in range(30)]
    assert [d.line for d in parsed][-1] == FIRST + 29 * SPAN + sum(
        len(lines) - SPAN for lines in documents[:29]
    )
    assert parsed[20].purpose == "часть три"
    assert parsed[13].payer_kpp == "" and parsed[5].kind == "Банковский ордер"


def test_empty_and_stray_lines_inside_a_run():
    documents = many(8)
    documents[4] = [*documents[4][:3], "", *documents[4][3:]]
    parsed = parse_statement(encode(statement(*documents))).documents
    assert parsed[5].line == FIRST + 5 * SPAN + 1
    documents[6] = [*documents[6][:3], "без равенства", *documents[6][3:]]
    result = outcome(encode(statement(*documents)))
    assert result[:2] == ("error", FIRST + 6 * SPAN + 1 + 3) and "без «=»" in result[2]


def test_a_repeated_key_keeps_its_last_value():
    documents = [[*lines[:-1], "Номер=повтор", lines[-1]] for lines in many(6)]
    assert {d.number for d in parse_statement(encode(statement(*documents))).documents} == {"повтор"}


@pytest.mark.parametrize(
    ("breakage", "line", "message"),
    [
        ("unclosed before a document", FIRST + 5 * SPAN + SPAN - 1, "не закрыта строкой КонецДокумента"),
        ("unclosed before the end", FIRST + 8 * SPAN - 1, "не закрыта строкой КонецДокумента"),
        ("end marker at the end of the text", FIRST + 8 * SPAN - 1, "нет строки КонецФайла"),
        ("stray end marker", FIRST + 6 * SPAN, "без начала секции"),
        ("data after the end", FIRST + 8 * SPAN + 2, "данные после КонецФайла"),
    ],
)
def test_structure_around_a_run(breakage, line, message):
    documents = many(8)
    end: tuple[str, ...] = ("КонецФайла",)
    if breakage == "unclosed before a document":
        documents[5] = documents[5][:-1]
    elif breakage == "unclosed before the end":
        documents[7] = documents[7][:-1]
    elif breakage == "end marker at the end of the text":
        end = ()
    elif breakage == "stray end marker":
        documents[5] = [*documents[5], "КонецДокумента"]
    else:
        end = ("КонецФайла", "", *documents[0])
    result = outcome(encode(statement(*documents, end=end)))
    assert result[:2] == ("error", line) and message in result[2]


# --- spaces and tabs around a line and its "=" do not count ------------------------------


def loosen(line: str, how: str) -> str:
    if how == "edges":
        return f" \t{line}  "
    if how == "end":
        return f"{line} \t"
    if how == "before =":
        return line.replace("=", " \t=", 1)
    return line.replace("=", "=  ", 1)


@pytest.mark.parametrize("how", ["edges", "end", "before =", "after ="])
@pytest.mark.parametrize(
    "where",
    [0, 1, 3, 5, 7, 8, 9, 12, 29, 8 + 21 * 4, 8 + 21 * 4 + 3, 8 + 21 * 6 - 1, 8 + 21 * 7, -1],
    ids=lambda where: f"line{where}",
)
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_loose_lines_read_as_tidy_ones(how, where, newline):
    """Line 0 is the signature, 8 + 21 * n the n-th document's start, 8 + 21 * n - 1 an
    end marker, -1 the end of file."""
    tidy = statement(*many(8))
    loose = list(tidy)
    loose[where] = loosen(loose[where], how)
    assert outcome(encode(loose, newline)) == outcome(encode(tidy, newline))


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_blank_lines_of_spaces(newline):
    tidy = statement(*many(6))
    loose = [*tidy[:8], "  ", *tidy[8:30], "\t", *tidy[30:], " "]
    blank = [*tidy[:8], "", *tidy[8:30], "", *tidy[30:], ""]
    assert outcome(encode(loose, newline)) == outcome(encode(blank, newline))


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ([*statement(*many(3)), " \tмусор = 1 "], 73, "данные после КонецФайла: «мусор=1»"),
        ([*statement(*many(3))[:-1], " \t"], 71, "нет строки КонецФайла"),
        (
            [*statement(*many(3))[:-2], "  "],
            70,
            "из строки 51 не закрыта строкой КонецДокумента, нет",
        ),
        ([*statement(*many(4))[:-2], "КонецДокумента  "], 92, "нет строки КонецФайла"),
        (
            [*statement(*many(4))[:53], " Сумма = x ", *statement(*many(4))[54:]],
            54,
            "сумма в поле Сумма: «x»",
        ),
    ],
)
def test_loose_lines_in_errors(lines, line, message):
    result = outcome(encode(lines))
    assert result[:2] == ("error", line) and message in result[2]


def test_a_purpose_with_spaces_around_an_equals_sign_is_left_as_it_is():
    documents = many(
        6,
        d1={"НазначениеПлатежа": "x = y "},
        d4={"Номер": "4 "},
        d5={"НазначениеПлатежа": "a = b"},
    )
    parsed = parse_statement(encode(statement(*documents))).documents
    assert (parsed[1].purpose, parsed[4].number, parsed[5].purpose) == ("x = y", "4", "a = b")


@pytest.mark.parametrize("kinds", [10, 1000])
def test_an_error_after_many_layouts_names_its_line(kinds):
    documents = [document(n, **{f"Поле{n % kinds}": "1"}) for n in range(300)]
    documents[250] = document(250, Сумма="12а")
    result = outcome(encode(statement(*documents)))
    assert result[0] == "error" and result[1] == 8 + 250 * 22 + 4
