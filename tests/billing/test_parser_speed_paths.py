"""The parser's quick paths give what the ordinary line-by-line reading gives.

Documents that repeat a layout (the same keys in the same order) are read by one match of
a compiled pattern; everything else, errors included, goes the ordinary way. Each test
parses a statement twice, with and without the layouts, and compares every field,
`line`, `source` and `raw`, or the error and its line.
"""

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


def many(count: int = 6, **changes_at: dict[str, str | None]) -> list[list[str]]:
    """`count` documents; `changes_at["d3"]` changes the document number 3."""
    return [document(n, **changes_at.get(f"d{n}", {})) for n in range(count)]


def outcome(data: bytes):
    try:
        statement = parse_statement(data)
    except StatementError as error:
        return ("error", error.line, error.message)
    return [
        (document, document.line, document.source, document.raw) for document in statement.documents
    ]


@pytest.fixture
def ordinary(monkeypatch):
    """The parse without layouts: every document read line by line."""

    def parse(data: bytes):
        with monkeypatch.context() as patch:
            patch.setattr(parser._Reader, "_learn_layout", lambda self, section: None)
            return outcome(data)

    return parse


def same(data: bytes, ordinary) -> list:
    quick = outcome(data)
    assert quick == ordinary(data)
    return quick


def test_repeated_layout_reads_as_the_ordinary_path(ordinary):
    documents = same(encode(statement(*many(50))), ordinary)
    assert len(documents) == 50
    assert [d.line for d, *_ in documents][:3] == [9, 30, 51]
    first = documents[7][0]
    assert (first.number, first.amount, first.payee_name) == ("7", 1007_07, "ООО «Подписка»")
    assert first.source.startswith("Номер=7\r\nДата=02.03.2026\r\n")
    assert first.source.endswith("в т.ч. НДС")


def test_the_layout_path_is_taken(monkeypatch):
    built = []
    original = parser._Reader._document_run

    def counting(self, pos, number, documents):
        result = original(self, pos, number, documents)
        built.append(len(documents))
        return result

    monkeypatch.setattr(parser._Reader, "_document_run", counting)
    assert len(parse_statement(encode(statement(*many(20)))).documents) == 20
    # Two documents read the ordinary way teach the layout; one run reads the rest.
    assert max(built) == 20 and len(built) <= 4


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "cp866"])
def test_newlines_and_encodings(newline, encoding, ordinary):
    lines = statement(*many(8))
    if encoding == "cp866":
        # cp866 has no guillemets.
        lines = [line.replace("«", '"').replace("»", '"') for line in lines]
        lines[2] = "Кодировка=DOS"
    same(encode(lines, newline, encoding), ordinary)


@pytest.mark.parametrize(
    "changes",
    [
        {"Сумма": "1000"},
        {"Сумма": "25000.5"},
        {"Сумма": "1 000,50"},
        {"Дата": "05.03.2026"},
        {"ДатаПоступило": ""},
        {"ДатаСписано": "03.03.2026", "ДатаПоступило": "04.03.2026"},
        {"ПлательщикСчет": "", "Плательщик": ""},
        {"ПолучательСчет": "", "Получатель1": ""},
        {"НазначениеПлатежа": "a = b == c"},
        {"Получатель": "ООО «Другой»"},
    ],
)
def test_unusual_values_in_a_run(changes, ordinary):
    documents = same(encode(statement(*many(8, d5=changes))), ordinary)
    assert len(documents) == 8


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Сумма": "12а"}, "неверная сумма"),
        ({"Сумма": "-1.00"}, "отрицательная"),
        ({"Сумма": ""}, "пустое обязательное поле Сумма"),
        ({"Сумма": "１２.00"}, "неверная сумма"),
        ({"Номер": ""}, "пустое обязательное поле Номер"),
        ({"Дата": ""}, "пустое обязательное поле Дата"),
        ({"Дата": "31.02.2026"}, "неверная дата"),
        ({"ДатаПоступило": "2026-03-02"}, "ДатаПоступило"),
    ],
)
def test_errors_in_a_run_name_the_line(changes, message, ordinary):
    result = same(encode(statement(*many(8, d5=changes)), encoding="utf-8"), ordinary)
    assert result[0] == "error" and message in result[2]
    lines = statement(*many(8, d5=changes))
    key = next(iter(changes))
    assert lines[result[1] - 1].startswith(f"{key}=") and result[1] > 5 * 21


def test_other_layouts_in_between(ordinary):
    documents = many(30)
    for n in range(10, 30, 3):
        documents[n] = document(n, ПлательщикКПП=None, ВидОплаты="01")
    documents[20] = document(20, НазначениеПлатежа=None, НазначениеПлатежа1="часть")
    same(encode(statement(*documents)), ordinary)


def test_more_layouts_than_are_tried(ordinary):
    extras = ["ВидОплаты", "Очередность", "Код", "КодНазПлатежа", "ТипДокумента", "СрокПлатежа"]
    documents = [document(n, **{extras[n % len(extras)]: "1"}) for n in range(60)]
    same(encode(statement(*documents)), ordinary)


def test_empty_and_stray_lines_inside_a_run(ordinary):
    documents = many(8)
    documents[4] = [*documents[4][:3], "", *documents[4][3:]]
    same(encode(statement(*documents)), ordinary)
    documents[6] = [*documents[6][:3], "без равенства", *documents[6][3:]]
    result = same(encode(statement(*documents)), ordinary)
    assert result[0] == "error" and "без «=»" in result[2]


def test_a_repeated_key(ordinary):
    documents = [[*lines[:-1], "Номер=повтор", lines[-1]] for lines in many(6)]
    result = same(encode(statement(*documents)), ordinary)
    assert {d.number for d, *_ in result} == {"повтор"}


@pytest.mark.parametrize(
    "breakage",
    [
        "unclosed before a document",
        "unclosed before the end",
        "end marker at the end of the text",
        "no end of file",
        "stray end marker",
        "data after the end",
        "account section in between",
    ],
)
def test_structure_around_a_run(breakage, ordinary):
    documents = many(8)
    end: tuple[str, ...] = ("КонецФайла",)
    if breakage == "unclosed before a document":
        documents[5] = documents[5][:-1]
    elif breakage == "unclosed before the end":
        documents[7] = documents[7][:-1]
    elif breakage == "end marker at the end of the text":
        end = ()
    elif breakage == "no end of file":
        end = ("",)
    elif breakage == "stray end marker":
        documents[5] = [*documents[5], "КонецДокумента"]
    elif breakage == "data after the end":
        end = ("КонецФайла", "", *documents[0])
    else:
        documents[5] = [*HEAD[4:], *documents[5]]
    same(encode(statement(*documents, end=end)), ordinary)


def test_spaces_around_the_equals_sign(ordinary):
    documents = many(8)
    documents[3] = [line.replace("=", " = ", 1) for line in documents[3]]
    documents[6][2] = "  " + documents[6][2] + "\t"
    same(encode(statement(*documents)), ordinary)


def test_documents_without_the_keys_the_layout_reads(ordinary):
    documents = many(8, d3={"ПлательщикРасчСчет": None, "Плательщик1": None})
    documents += [document(n, Номер=None) for n in range(8, 10)]
    result = same(encode(statement(*documents)), ordinary)
    assert result[0] == "error" and "Номер" in result[2]


# --- spaces and tabs, checked where the text is read ----------------------------------


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
def test_loose_lines_read_as_clean_ones(how, where, newline, ordinary):
    """Line 0 is the signature, 8 the first document's start, 8 + 21 * n the n-th one's,
    8 + 21 * n - 1 an end marker, -1 the end of file."""
    clean = statement(*many(8))
    loose = list(clean)
    loose[where] = loosen(loose[where], how)
    expected = outcome(encode(clean, newline))
    assert same(encode(loose, newline), ordinary) == expected


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_blank_lines_of_spaces(newline, ordinary):
    clean = statement(*many(6))
    loose = [*clean[:8], "  ", *clean[8:30], "\t", *clean[30:], " "]
    tidy = [*clean[:8], "", *clean[8:30], "", *clean[30:], ""]
    assert same(encode(loose, newline), ordinary) == outcome(encode(tidy, newline))


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
def test_loose_lines_in_errors(lines, line, message, ordinary):
    result = same(encode(lines), ordinary)
    assert result[:2] == ("error", line) and message in result[2]


def test_a_purpose_with_spaces_around_an_equals_sign_is_left_as_it_is(ordinary):
    documents = many(
        6,
        d1={"НазначениеПлатежа": "x = y "},
        d4={"Номер": "4 "},
        d5={"НазначениеПлатежа": "a = b"},
    )
    result = same(encode(statement(*documents)), ordinary)
    assert (result[1][0].purpose, result[4][0].number, result[5][0].purpose) == (
        "x = y",
        "4",
        "a = b",
    )


@pytest.mark.parametrize("kinds", [10, 1000])
def test_layouts_given_up_when_they_do_not_pay(kinds, ordinary):
    documents = [document(n, **{f"Поле{n % kinds}": "1"}) for n in range(300)]
    documents[250] = document(250, Сумма="12а")
    result = same(encode(statement(*documents)), ordinary)
    assert result[0] == "error" and result[1] == 8 + 250 * 22 + 4
