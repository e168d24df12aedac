"""Parser for bank statements in the 1CClientBankExchange format (versions 1.02 and 1.03).

Pure Python, no Django: bytes in, dataclasses out, `StatementError` (Russian message and a
1-based line number) for anything malformed. Money is integer kopecks, never float.

Speed matters (a year of statements can hold 100 000 documents, and the benchmark holds
the parser to about one and a half times `floor_pass`): documents that repeat a layout of
keys are read by one match of a compiled pattern each (`_Layout`); other sections are
found with `str.find` on the whole text, and a line costs one `str.partition` and one
dict store. A document keeps where its section is in the decoded text instead of a dict
or a copy (`Document.source` and `Document.raw` are built on demand), spaces around the
"=" are looked for only where the text is read, and the careful line-by-line path runs
only for sections that need it, to say what is wrong and where.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, TypeVar

from podpiska.core import collector, limits

SIGNATURE = "1CClientBankExchange"
DOCUMENT_START = "СекцияДокумент"
DOCUMENT_END = "КонецДокумента"
ACCOUNT_START = "СекцияРасчСчет"
ACCOUNT_END = "КонецРасчСчет"
FILE_END = "КонецФайла"

# Lines without "=" that mark the structure; any other such line inside a section is an error.
_MARKERS = frozenset({ACCOUNT_START, ACCOUNT_END, DOCUMENT_END, FILE_END})
_PURPOSE_PARTS = tuple(f"НазначениеПлатежа{n}" for n in range(1, 7))
# DOS files may end with Ctrl-Z, some exports pad with NULs: neither is content.
_FILE_PADDING = "\x00\x1a \t"
_EDGE_WHITESPACE = " \t"
# Where a space makes a block of lines irregular (see `_is_regular_block`). A text with
# CRLF has no lone CR or LF, so half of its newline is enough to search for.
_LOOSE_SPACES = {
    newline: (" " + newline[0], newline[-1] + " ", " =", "= ") for newline in ("\r\n", "\n", "\r")
}
_SECTION_OF_END = {DOCUMENT_END: DOCUMENT_START, ACCOUNT_END: ACCOUNT_START}
# Keys a document must have for the layout path (see `_Layout`), and the keys it reads, in
# the order `_Reader._document_run` unpacks them.
_LAYOUT_REQUIRED = ("Номер", "Дата", "Сумма", "НазначениеПлатежа")
_LAYOUT_FIELDS = (
    "Номер",
    "Дата",
    "Сумма",
    "ПлательщикСчет",
    "ПлательщикРасчСчет",
    "Плательщик",
    "Плательщик1",
    "ПлательщикИНН",
    "ПлательщикКПП",
    "ПлательщикБИК",
    "ПлательщикБанк1",
    "ПолучательСчет",
    "ПолучательРасчСчет",
    "Получатель",
    "Получатель1",
    "ПолучательИНН",
    "ПолучательКПП",
    "ПолучательБИК",
    "ПолучательБанк1",
    "ДатаСписано",
    "ДатаПоступило",
    "НазначениеПлатежа",
)
# A layout is compiled when it is seen the second time; the reader tries the few most
# recent ones at each document, stops compiling new ones after a while, and gives layouts
# up for the rest of the file when too many are seen or failed tries outnumber documents
# read (many layouts in turn): the ordinary path is then cheaper.
_LAYOUTS_TRIED = 8
_LAYOUTS_COMPILED = 32
_LAYOUTS_NOTED = 64

# --- encoding detection -------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"
_SAMPLE_HEAD = 1 << 16
_SAMPLE_TAIL = 1 << 10
_CANDIDATES = ("utf-8", "cp1251", "cp866")
_MARKER_WORDS = (
    DOCUMENT_START,
    DOCUMENT_END,
    ACCOUNT_START,
    ACCOUNT_END,
    FILE_END,
    "ВерсияФормата",
    "Кодировка",
)
_ENCODED_MARKERS = {enc: tuple(w.encode(enc) for w in _MARKER_WORDS) for enc in _CANDIDATES}
# The most frequent Russian letters: the right decoding of Russian text is full of them,
# the wrong single-byte one turns them into box drawing or rare letters.
_FREQUENT_LETTERS = "оеаинтсрвлОЕАИНТСРВЛ"
_ENCODED_LETTERS = {enc: tuple(c.encode(enc) for c in _FREQUENT_LETTERS) for enc in _CANDIDATES}
_ENCODING_KEYS = {enc: "Кодировка=".encode(enc) for enc in _CANDIDATES}
_DECLARED = {b"windows": "cp1251", b"dos": "cp866"}

_Built = TypeVar("_Built")


class StatementError(ValueError):
    """A statement that cannot be read; `line` is 1-based, as an editor shows it."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"строка {self.line}: {self.message}"


@dataclass(slots=True)
class AccountSection:
    """One СекцияРасчСчет: an account over an interval; amounts in kopecks, None if absent."""

    account: str
    date_from: date | None
    date_to: date | None
    opening_balance: int | None
    closing_balance: int | None
    total_in: int | None
    total_out: int | None
    line: int
    raw: dict[str, str] = field(repr=False)


@dataclass(slots=True)
class Document:
    """One СекцияДокумент. Text fields missing from the file are ""; dates missing are None."""

    kind: str
    number: str
    date: date
    amount: int
    payer_account: str
    payer_name: str
    payer_inn: str
    payer_kpp: str
    payer_bik: str
    payer_bank: str
    payee_account: str
    payee_name: str
    payee_inn: str
    payee_kpp: str
    payee_bik: str
    payee_bank: str
    date_debited: date | None
    date_credited: date | None
    purpose: str
    line: int
    # Where the section's lines are in the decoded text, which the documents share: a
    # copy of each section would double the parse's memory (150 MB of a year's file).
    # `source` and `raw` are read from it on demand, because a dict per document would
    # cost more than the rest of the parse.
    file_text: str = field(repr=False, compare=False)
    start: int = field(repr=False, compare=False)
    end: int = field(repr=False, compare=False)

    @property
    def source(self) -> str:
        """The section's lines as in the file, between its markers."""
        return self.file_text[self.start : self.end]

    @property
    def raw(self) -> dict[str, str]:
        """Every key of the section with its value; a repeated key keeps its last value."""
        return _body_dict(self.source)

    def is_incoming_to(self, accounts: set[str] | frozenset[str]) -> bool:
        """Money that came to one of `accounts`.

        ДатаПоступило is the bank's mark of a credit; when a bank leaves it empty (bank
        orders often do), a payment from an outside account to ours is still incoming,
        while a transfer between our own accounts without that mark is not.
        """
        if self.payee_account not in accounts:
            return False
        return self.date_credited is not None or self.payer_account not in accounts


@dataclass(slots=True)
class Statement:
    """A parsed file. `header` keeps the last value of each header key; `accounts` keeps
    every header РасчСчет in order (the key repeats once per account)."""

    encoding: str
    header: dict[str, str]
    accounts: list[str]
    account_sections: list[AccountSection]
    documents: list[Document]


# --- public entry points -----------------------------------------------------------------


def parse_statement(data: bytes, *, today: date | None = None) -> Statement:
    """The file's accounts and documents, or StatementError.

    Every date must lie in the sane window of `core.limits` (from 2000 on; with `today`,
    also at most a day ahead of it), and a document's dates in the period of its
    account's section (ДатаНачала–ДатаКонца); amounts at most `limits.MAX_AMOUNT`; no NUL
    anywhere in the file's sections.
    """
    text, encoding = decode_statement(data)
    text, newline = _unify_newlines(text)
    first, last = limits.bank_date_window(today) if today else (limits.EARLIEST_BANK_DATE, date.max)
    with collector.paused():
        return _Reader(text, newline, _Dates(first, last)).read(encoding)


def floor_pass(data: bytes) -> int:
    """The least any parser must do: decode, split lines, split each into key and value.

    The benchmark floor for `parse_statement`; returns the number of lines.
    """
    text, newline = _unify_newlines(decode_statement(data)[0])
    lines = text.split(newline)
    for line in lines:
        line.partition("=")
    return len(lines)


def decode_statement(data: bytes) -> tuple[str, str]:
    """Text and the encoding it was read in, judged from the bytes.

    The Кодировка header only breaks ties: banks write «Windows» over UTF-8 files. Bytes
    that do not decode become U+FFFD instead of failing the whole file (a bank that cuts
    a purpose at 210 bytes may split a UTF-8 letter); the structure is still checked.
    """
    if data.startswith(_BOM):
        return data.decode("utf-8-sig", errors="replace"), "utf-8-sig"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        encoding = _guess_encoding(data)
        return data.decode(encoding, errors="replace"), encoding
    if text.isascii():
        # Every candidate reads ASCII the same; name the one the file declares.
        return text, _declared_encoding(data[:_SAMPLE_HEAD]) or "cp1251"
    return text, "utf-8"


def parse_amount(text: str) -> int:
    """'1000', '1000.5', '134400.00', '1 000,50', '-12.30' → kopecks (str arithmetic only).

    Raises ValueError for anything else, including more than two decimals.
    """
    whole, dot, fraction = text.partition(".")
    if len(fraction) == 2 and whole.isdigit() and fraction.isdigit() and text.isascii():
        return int(whole) * 100 + int(fraction)  # the usual '134400.00', checked cheaply
    cleaned = text.replace(" ", "").replace("\xa0", "")
    negative = cleaned.startswith("-")
    whole, dot, fraction = cleaned.removeprefix("-").replace(",", ".").partition(".")
    if not _is_digits(whole) or (dot and not (_is_digits(fraction) and len(fraction) <= 2)):
        raise ValueError(f"не сумма: {text!r}")
    if len(whole.lstrip("0")) > 2 * limits.MAX_AMOUNT_DIGITS:
        # Far beyond any bound: not worth the arithmetic of thousands of digits.
        raise ValueError(f"не сумма: {text[:40]!r}…")
    kopecks = int(whole) * 100 + (int(fraction.ljust(2, "0")) if dot else 0)
    return -kopecks if negative else kopecks


def parse_date(text: str) -> date:
    """'dd.mm.yyyy' → date; ValueError for anything else."""
    if len(text) != 10 or text[2] != "." or text[5] != ".":
        raise ValueError(f"не дата: {text!r}")
    day, month, year = text[:2], text[3:5], text[6:]
    if not _is_digits(day + month + year):
        raise ValueError(f"не дата: {text!r}")
    return date(int(year), int(month), int(day))


# --- helpers -----------------------------------------------------------------------------


def _is_digits(text: str) -> bool:
    # isdigit alone accepts '²' and other non-ASCII digits that int() then refuses.
    return text.isdigit() and text.isascii()


def _guess_encoding(data: bytes) -> str:
    sample = data[:_SAMPLE_HEAD] + data[-_SAMPLE_TAIL:]
    declared = _declared_encoding(sample)

    def score(encoding: str) -> tuple[int, int, bool]:
        markers = sum(marker in sample for marker in _ENCODED_MARKERS[encoding])
        letters = sum(map(sample.count, _ENCODED_LETTERS[encoding]))
        return markers, letters, encoding == declared

    # Marker words decide (their bytes differ in every candidate); letters decide files
    # too damaged to show markers; the declaration breaks what is still a tie.
    return max(_CANDIDATES, key=score)


def _declared_encoding(sample: bytes) -> str | None:
    for key in _ENCODING_KEYS.values():
        start = sample.find(key)
        if start >= 0:
            value = sample[start + len(key) :].split(b"\n", 1)[0].split(b"\r", 1)[0]
            return _DECLARED.get(value.strip().lower())
    return None


def _unify_newlines(text: str) -> tuple[str, str]:
    """The text with one newline style, and that newline.

    Files keep to one style (CRLF, LF or CR) and are left as they are, saving a copy of
    a text that may take a hundred megabytes; only mixed ones are rewritten to LF.
    """
    if "\r" not in text:
        return text, "\n"
    if "\n" not in text:
        return text, "\r"
    crlf = text.count("\r\n")
    if text.count("\r") == crlf == text.count("\n"):
        return text, "\r\n"
    return text.replace("\r\n", "\n").replace("\r", "\n"), "\n"


def _is_regular_block(block: str, newline: str) -> bool:
    """Whether every line of `block` is as `_canonical_line` would leave it.

    A few searches clear almost every block; a suspect one (a purpose such as "x = y")
    is then checked line by line.
    """
    before_newline, after_newline, before_equals, after_equals = _LOOSE_SPACES[newline]
    if not (
        "\t" in block
        or block[:1] == " "
        or block[-1:] == " "
        or before_newline in block
        or after_newline in block
        or before_equals in block
        or after_equals in block
    ):
        return True
    return all(line == _canonical_line(line) for line in block.split(newline))


def _canonical(text: str, newline: str) -> str:
    """The text with spaces and tabs removed around each line and around its first "="."""
    return newline.join(map(_canonical_line, text.split(newline)))


def _canonical_line(line: str) -> str:
    key, sep, value = line.strip(_EDGE_WHITESPACE).partition("=")
    if not sep:
        return key
    return f"{key.rstrip(_EDGE_WHITESPACE)}={value.lstrip(_EDGE_WHITESPACE)}"


def _shorten(line: str, limit: int = 60) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


class _Dates(dict):
    """Dates parsed so far by their text, and the window they must lie in."""

    def __init__(self, first: date, last: date) -> None:
        super().__init__()
        self.first = first
        self.last = last


class _FieldError(Exception):
    """A value in a section that cannot be read; the reader adds its line number."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(key, message)
        self.key = key
        self.message = message


def _required(raw: dict[str, str], key: str) -> str:
    value = raw.get(key)
    if value is None:
        # Reported at the section's first line: the key has no line of its own.
        raise _FieldError(key, f"в документе нет обязательного поля {key}")
    if not value:
        raise _FieldError(key, f"в документе пустое обязательное поле {key}")
    return value


def _amount(raw: dict[str, str], key: str) -> int | None:
    value = raw.get(key, "")
    return _parse_amount_of(value, key) if value else None


def _parse_amount_of(value: str, key: str) -> int:
    try:
        return parse_amount(value)
    except ValueError:
        raise _FieldError(key, f"неверная сумма в поле {key}: «{_shorten(value)}»") from None


def _date(value: str, key: str, cache: _Dates) -> date | None:
    # A statement has few distinct dates and three per document: parse each once.
    try:
        return cache[value]
    except KeyError:
        pass
    try:
        parsed = parse_date(value) if value else None
    except ValueError:
        raise _FieldError(
            key, f"неверная дата в поле {key}: «{_shorten(value)}», ожидается дд.мм.гггг"
        ) from None
    if parsed is not None and not cache.first <= parsed <= cache.last:
        # A year-1 date would be stored as 1 BC and break every page that reads it.
        raise _FieldError(key, f"дата вне допустимого периода в поле {key}: «{value}» ({_window(cache)})")
    cache[value] = parsed
    return parsed


def _window(dates: _Dates) -> str:
    if dates.last == date.max:
        return f"не раньше {dates.first:%d.%m.%Y}"
    return f"допустимо с {dates.first:%d.%m.%Y} по {dates.last:%d.%m.%Y}"


def _build_document(kind: str, section: _Section, dates: _Dates) -> Document:
    raw = section.raw
    get = raw.get
    number = _required(raw, "Номер")
    doc_date = _date(_required(raw, "Дата"), "Дата", dates)
    amount = _parse_amount_of(_required(raw, "Сумма"), "Сумма")
    if amount < 0:
        raise _FieldError("Сумма", f"отрицательная сумма в поле Сумма: «{raw['Сумма']}»")
    if amount > limits.MAX_AMOUNT:
        most = f"{limits.MAX_AMOUNT // 100:,}".replace(",", " ")
        raise _FieldError("Сумма", f"сумма больше {most} руб. в поле Сумма: «{_shorten(raw['Сумма'])}»")
    purpose = get("НазначениеПлатежа")
    if purpose is None:
        purpose = " ".join(filter(None, map(get, _PURPOSE_PARTS)))
    # Positional, in the order of the fields: 21 keyword arguments cost some 5 % of the
    # whole parse. The round-trip tests compare every field, so a slip shows at once.
    return Document(
        kind,
        number,
        doc_date,
        amount,
        get("ПлательщикСчет") or get("ПлательщикРасчСчет", ""),
        get("Плательщик") or get("Плательщик1", ""),
        get("ПлательщикИНН", ""),
        get("ПлательщикКПП", ""),
        get("ПлательщикБИК", ""),
        get("ПлательщикБанк1", ""),
        get("ПолучательСчет") or get("ПолучательРасчСчет", ""),
        get("Получатель") or get("Получатель1", ""),
        get("ПолучательИНН", ""),
        get("ПолучательКПП", ""),
        get("ПолучательБИК", ""),
        get("ПолучательБанк1", ""),
        _date(get("ДатаСписано", ""), "ДатаСписано", dates),
        _date(get("ДатаПоступило", ""), "ДатаПоступило", dates),
        purpose,
        section.number,
        section.body,
        0,
        len(section.body),
    )


def _build_account_section(section: _Section, dates: _Dates) -> AccountSection:
    raw = section.raw
    account = raw.get("РасчСчет", "")
    if not account:
        raise _FieldError("РасчСчет", "в секции СекцияРасчСчет нет поля РасчСчет")
    return AccountSection(
        account=account,
        date_from=_date(raw.get("ДатаНачала", ""), "ДатаНачала", dates),
        date_to=_date(raw.get("ДатаКонца", ""), "ДатаКонца", dates),
        opening_balance=_amount(raw, "НачальныйОстаток"),
        closing_balance=_amount(raw, "КонечныйОстаток"),
        total_in=_amount(raw, "ВсегоПоступило"),
        total_out=_amount(raw, "ВсегоСписано"),
        line=section.number,
        raw=raw,
    )


class _Section(NamedTuple):
    """A section read from the text: `number` is its opening line, `body` the lines
    between the markers, `raw` their keys and values."""

    number: int
    body: str
    lines: list[str]
    raw: dict[str, str]
    next_pos: int


class _Layout(NamedTuple):
    """The keys of a document section in their order, as one compiled pattern.

    Banks write every document of a kind with the same keys in the same order, so a
    pattern of those keys, each followed by "=" and a value up to the line end, reads a
    whole section in one match: every line is then a key and a value, none is empty or
    stray, no other section opens inside, and the end marker closes it, just as the
    line-by-line reading would have found. A section that does not match takes the
    ordinary path.
    """

    pattern: re.Pattern[str]
    # Group numbers of the kind and of `_LAYOUT_FIELDS`; a key missing from the layout
    # points at the empty group at the pattern's end.
    groups: tuple[int, ...]
    # Lines from the opening one to the one after the end marker.
    span: int
    # From the match's end back to the end of the section's body.
    tail: int


def _compile_layout(keys: tuple[str, ...], newline: str) -> _Layout:
    line_end = re.escape(newline)
    # A value up to the line end, with no space or tab at either edge: a line that would
    # need `_canonical_line` does not match.
    value = r"((?![ \t])[^\r\n]*+(?<![ \t]))"
    lines = "".join(f"{line_end}{re.escape(key)}={value}" for key in keys)
    pattern = re.compile(
        f"{re.escape(DOCUMENT_START)}={value}{lines}{line_end}{re.escape(DOCUMENT_END)}{line_end}()"
    )
    empty = len(keys) + 2
    # Keys do not repeat in a layout (see `_Reader._learn_layout`).
    group_of = {key: number for number, key in enumerate(keys, 2)}
    groups = (1, *(group_of.get(key, empty) for key in _LAYOUT_FIELDS))
    return _Layout(pattern, groups, len(keys) + 2, len(DOCUMENT_END) + 2 * len(newline))


class _Reader:
    """One pass over the text, a section at a time.

    A section's end marker is found with `str.find`, and its body is split and read in a
    tight loop; the careful path runs only for a section with empty or stray lines. Line
    numbers are counted, not searched for: a section adds its body's lines plus two.

    Spaces and tabs at line edges and around the "=" are checked where the text is read:
    a line or section with them has the rest of the text rewritten by `_canonical` (line
    numbers stay), and is read again. Files rarely have them, and a search of the whole
    file for them would cost a sixth of the parse.
    """

    def __init__(self, text: str, newline: str, dates: _Dates) -> None:
        self.text = text
        self.newline = newline
        self.dates = dates
        # An end marker is searched for with the newline before it: it starts a line.
        self.probes = {end: newline + end for end in _SECTION_OF_END}
        # Document layouts: the ones tried, most recently matched first; every one seen,
        # with the number of sightings until it is compiled.
        self.layouts: list[_Layout] = []
        self.seen: dict[tuple[str, ...], _Layout | int] = {}
        self.compiled = 0
        self.layout_hits = 0
        self.layout_misses = 0
        self.layouts_given_up = False
        # Whether the text from some line on has been rewritten: everything is regular.
        self.canonical = False

    def read(self, encoding: str) -> Statement:
        newline = self.newline
        header: dict[str, str] = {}
        accounts: list[str] = []
        account_sections: list[AccountSection] = []
        documents: list[Document] = []
        pos, number = self._after_signature()
        while pos <= len(self.text):
            eol, line = self._line(pos)
            key, sep, value = line.partition("=")
            section = None
            if sep and key == DOCUMENT_START:
                run_end, run_number = self._document_run(pos, number, documents)
                if run_end != pos:
                    pos, number = run_end, run_number
                    continue
                section = self._section(number, eol + len(newline), DOCUMENT_END)
                documents.append(self._convert(_build_document, section, value))
                self._learn_layout(section)
            elif line == ACCOUNT_START:
                section = self._section(number, eol + len(newline), ACCOUNT_END)
                account_sections.append(self._convert(_build_account_section, section))
            elif line == FILE_END:
                self._check_rest(eol, number)
                self._check_characters(pos)
                _check_periods(account_sections, documents)
                return Statement(encoding, header, accounts, account_sections, documents)
            elif sep and not documents and not account_sections:
                header[key] = value
                if key == "РасчСчет":
                    accounts.append(value)
            elif line:
                raise _stray(line, number, sep)
            if section is None:
                pos, number = eol + len(newline), number + 1
            else:
                pos, number = section.next_pos, section.number + len(section.lines) + 2
        raise StatementError("файл оборван: нет строки КонецФайла", self._last_line())

    def _document_run(self, pos: int, number: int, documents: list[Document]) -> tuple[int, int]:
        """Documents from `pos` on that match a known layout: where they end, and the
        number of the line there. Stops at the first section that matches none."""
        if not self.layouts:
            return pos, number
        text, dates, append = self.text, self.dates, documents.append
        layout = self.layouts[0]
        first = len(documents)
        while True:
            match = layout.pattern.match(text, pos)
            if match is None:
                self.layout_hits += len(documents) - first
                first = len(documents)
                layout = self._switch_layout(pos)
                if layout is None:
                    return pos, number
                match = layout.pattern.match(text, pos)
            (
                kind,
                doc_number,
                day,
                total,
                payer_account,
                payer_account_alt,
                payer_name,
                payer_name_alt,
                payer_inn,
                payer_kpp,
                payer_bik,
                payer_bank,
                payee_account,
                payee_account_alt,
                payee_name,
                payee_name_alt,
                payee_inn,
                payee_kpp,
                payee_bik,
                payee_bank,
                debited,
                credited,
                purpose,
            ) = match.group(*layout.groups)
            end = match.end()
            whole, _, cents = total.partition(".")
            try:
                doc_date, date_debited, date_credited = dates[day], dates[debited], dates[credited]
            except KeyError:
                doc_date = None  # a date not yet seen: the ordinary path reads and keeps it
            if (
                doc_date is None
                or not doc_number
                or len(cents) != 2
                or not (whole.isdigit() and cents.isdigit() and total.isascii())
                or len(whole) >= limits.MAX_AMOUNT_DIGITS
            ):
                # Anything but the usual '134400.00' and known dates, including every
                # error, is left to the ordinary builder.
                append(self._document_of(match, layout, number, kind))
            else:
                # Positional, in the order of the fields, as in `_build_document`.
                append(
                    Document(
                        kind,
                        doc_number,
                        doc_date,
                        int(whole) * 100 + int(cents),
                        payer_account or payer_account_alt,
                        payer_name or payer_name_alt,
                        payer_inn,
                        payer_kpp,
                        payer_bik,
                        payer_bank,
                        payee_account or payee_account_alt,
                        payee_name or payee_name_alt,
                        payee_inn,
                        payee_kpp,
                        payee_bik,
                        payee_bank,
                        date_debited,
                        date_credited,
                        purpose,
                        number,
                        text,
                        match.end(1) + len(self.newline),
                        end - layout.tail,
                    )
                )
            pos, number = end, number + layout.span

    def _document_of(
        self, match: re.Match[str], layout: _Layout, number: int, kind: str
    ) -> Document:
        """A document matched by a layout, built (or refused) by the ordinary builder."""
        body = self.text[match.end(1) + len(self.newline) : match.end() - layout.tail]
        lines = body.split(self.newline) if body else []
        raw = _read_fast(lines)
        assert raw is not None  # a layout matches clean sections only
        return self._convert(_build_document, _Section(number, body, lines, raw, match.end()), kind)

    def _switch_layout(self, pos: int) -> _Layout | None:
        """Another tried layout that matches at `pos`, moved to the front; or None."""
        layouts = self.layouts
        self.layout_misses += 1
        if self.layout_misses > 2 * self.layout_hits + 64:
            self._give_up_layouts()
            return None
        for index in range(1, len(layouts)):
            if layouts[index].pattern.match(self.text, pos):
                layouts.insert(0, layouts.pop(index))
                return layouts[0]
            self.layout_misses += 1
        return None

    def _give_up_layouts(self) -> None:
        """Read the rest of the file the ordinary way: layouts cost more than they save."""
        self.layouts.clear()
        self.seen.clear()
        self.layouts_given_up = True

    def _learn_layout(self, section: _Section) -> None:
        """Note the layout of a document read the ordinary way; compile it when it
        comes again, so the documents after it take the layout path."""
        raw = section.raw
        if self.layouts_given_up:
            return
        # Empty lines (or a repeated key) make the count differ: such a section is rare.
        if len(raw) != len(section.lines) or not all(map(raw.__contains__, _LAYOUT_REQUIRED)):
            return
        keys = tuple(raw)
        known = self.seen.get(keys, 0)
        if isinstance(known, int):
            if known == 0 and len(self.seen) >= _LAYOUTS_NOTED:
                self._give_up_layouts()
                return
            if known == 0 or self.compiled >= _LAYOUTS_COMPILED:
                self.seen[keys] = known + 1
                return
            known = self.seen[keys] = _compile_layout(keys, self.newline)
            self.compiled += 1
        if known not in self.layouts:
            self.layouts.insert(0, known)
            del self.layouts[_LAYOUTS_TRIED:]

    def _line_end(self, pos: int) -> int:
        eol = self.text.find(self.newline, pos)
        return len(self.text) if eol < 0 else eol

    def _line(self, pos: int) -> tuple[int, str]:
        """End and text of the line at `pos`, made regular first if it is not."""
        eol = self._line_end(pos)
        line = self.text[pos:eol]
        if not self.canonical and not _is_regular_block(line, self.newline):
            self._canonicalise_from(pos)
            eol = self._line_end(pos)
            line = self.text[pos:eol]
        return eol, line

    def _canonicalise_from(self, pos: int) -> None:
        """Rewrite the text from the line at `pos` on, once; the lines before are regular."""
        self.text = self.text[:pos] + _canonical(self.text[pos:], self.newline)
        self.canonical = True

    def _after_signature(self) -> tuple[int, int]:
        """Position and number of the line after the signature, which must come first."""
        pos, number = 0, 1
        while pos <= len(self.text):
            eol, line = self._line(pos)
            if line == SIGNATURE:
                return eol + len(self.newline), number + 1
            if line:
                raise StatementError(
                    f"это не выписка 1CClientBankExchange: первая строка «{_shorten(line)}»",
                    number,
                )
            pos, number = eol + len(self.newline), number + 1
        raise StatementError("файл пуст: это не выписка 1CClientBankExchange", 1)

    def _section(self, number: int, body_start: int, end_marker: str) -> _Section:
        end = self._find_line(end_marker, body_start)
        if not self.canonical and body_start < len(self.text):
            # Up to the end marker found, or to the end of the text: an irregular marker
            # line is not found as one, so its section runs on over it.
            stop = end - len(self.newline) if end >= 0 else len(self.text)
            if not _is_regular_block(self.text[body_start:stop], self.newline):
                self._canonicalise_from(body_start)
                return self._section(number, body_start, end_marker)
        if end < 0:
            rest = self.text[body_start:] if body_start <= len(self.text) else ""
            self._read_careful(number, rest.split(self.newline), end_marker, closed=False)
        body = self.text[body_start : end - len(self.newline)] if end > body_start else ""
        lines = body.split(self.newline) if body else []
        raw = _read_fast(lines)
        if raw is None:
            raw = self._read_careful(number, lines, end_marker, closed=True)
        return _Section(number, body, lines, raw, end + len(end_marker) + len(self.newline))

    def _find_line(self, marker: str, start: int) -> int:
        """Start of the first line from `start` on that is exactly `marker`, or -1."""
        probe = self.probes[marker]
        at = start - len(self.newline)  # the newline before `start` may precede the marker
        while (found := self.text.find(probe, at)) >= 0:
            after = found + len(probe)
            if after == len(self.text) or self.text.startswith(self.newline, after):
                return found + len(self.newline)
            at = found + 1
        return -1

    def _read_careful(
        self, number: int, lines: list[str], end_marker: str, *, closed: bool
    ) -> dict[str, str]:
        """A section line by line: empty lines skipped, stray and structural ones refused."""
        name = _SECTION_OF_END[end_marker]
        raw: dict[str, str] = {}
        for offset, line in enumerate(lines, 1):
            if not line:
                continue
            key, sep, value = line.partition("=")
            if (sep and key == DOCUMENT_START) or line in _MARKERS:
                raise StatementError(
                    f"секция {name} из строки {number} не закрыта строкой {end_marker}: "
                    f"встретилась строка «{_shorten(line)}»",
                    number + offset,
                )
            if not sep:
                raise StatementError(
                    f"строка без «=» в секции {name} из строки {number}: «{_shorten(line)}»",
                    number + offset,
                )
            raw[key] = value
        if not closed:
            raise StatementError(
                f"файл оборван: секция {name} из строки {number} не закрыта строкой "
                f"{end_marker}, нет КонецФайла",
                self._last_line(),
            )
        return raw

    def _convert(self, build: Callable[..., _Built], section: _Section, *args: Any) -> _Built:
        """Build a dataclass from a section, turning a bad value into a StatementError."""
        try:
            return build(*args, section, self.dates)
        except _FieldError as error:
            raise StatementError(error.message, _key_line(section, error.key)) from None

    def _check_characters(self, end: int) -> None:
        """No NUL before КонецФайла (after it, padding is allowed): the database could not
        store it, and no bank writes one. Other control characters are stored as they are."""
        at = self.text.find(limits.NUL, 0, end)
        if at < 0:
            return
        number = self.text.count(self.newline, 0, at) + 1
        line_start = self.text.rfind(self.newline, 0, at) + len(self.newline) if number > 1 else 0
        key = self.text[line_start:at].partition("=")[0]
        raise StatementError(f"недопустимый символ NUL (код 0) в поле {_shorten(key)}", number)

    def _check_rest(self, eol: int, number: int) -> None:
        rest = self.text[eol:].split(self.newline)
        for offset, line in enumerate(rest[1:], 1):
            if line.strip(_FILE_PADDING):
                raise StatementError(
                    f"данные после КонецФайла: «{_shorten(_canonical_line(line))}»",
                    number + offset,
                )

    def _last_line(self) -> int:
        """Number of the last non-empty line, where a truncated file stops."""
        return self.text.rstrip("\r\n").count(self.newline) + 1


def _check_periods(sections: list[AccountSection], documents: list[Document]) -> None:
    """A document's dates agree with the period its account's section covers.

    The section's ДатаНачала–ДатаКонца is the statement's own word on when the money
    moved: a credit to the account (ДатаПоступило) or a debit from it (ДатаСписано) falls
    within it, and no document is dated after it ends.
    """
    periods = {
        section.account: (section.date_from, section.date_to)
        for section in sections
        if section.date_from is not None and section.date_to is not None
    }
    for section in sections:
        if section.account in periods and section.date_from > section.date_to:
            raise StatementError(
                f"ДатаНачала {section.date_from:%d.%m.%Y} позже ДатаКонца {section.date_to:%d.%m.%Y}",
                section.line,
            )
    if not periods:
        return
    get = periods.get
    for document in documents:
        for period, moved in (
            (get(document.payee_account), document.date_credited),
            (get(document.payer_account), document.date_debited),
        ):
            if period is not None and (
                document.date > period[1] or (moved is not None and not period[0] <= moved <= period[1])
            ):
                _period_error(document, period)


def _period_error(document: Document, period: tuple[date, date]) -> None:
    first, last = period
    for key, day in (
        ("Дата", document.date),
        ("ДатаПоступило", document.date_credited),
        ("ДатаСписано", document.date_debited),
    ):
        if day is not None and (day > last or (key != "Дата" and day < first)):
            raise StatementError(
                f"дата в поле {key} ({day:%d.%m.%Y}) вне периода выписки "
                f"{first:%d.%m.%Y}–{last:%d.%m.%Y}",
                document.line,
            )


def _body_dict(body: str) -> dict[str, str]:
    # A body comes from a text with one newline style, so its own newline tells which.
    newline = "\r\n" if "\r\n" in body else "\r" if "\r" in body else "\n"
    raw: dict[str, str] = {}
    for line in body.split(newline):
        key, sep, value = line.partition("=")
        if sep:
            raw[key] = value
    return raw


def _read_fast(lines: list[str]) -> dict[str, str] | None:
    """Keys and values of a clean section body; None when it needs the careful path."""
    raw: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep:
            return None  # an empty line, a stray one or a marker: the careful path judges
        raw[key] = value
    # Another section opening inside this one means this one was never closed.
    return None if DOCUMENT_START in raw else raw


def _key_line(section: _Section, key: str) -> int:
    # Errors are rare, so the line of a key is looked up only now; the last occurrence
    # wins, as it does in the dict. A missing key is reported at the section's first line.
    for offset in range(len(section.lines), 0, -1):
        line_key, sep, _ = section.lines[offset - 1].partition("=")
        if sep and line_key == key:
            return section.number + offset
    return section.number


def _stray(line: str, number: int, sep: str) -> StatementError:
    if line in (DOCUMENT_END, ACCOUNT_END):
        message = f"строка «{line}» без начала секции"
    elif sep:
        message = f"строка вне секции: «{_shorten(line)}»"
    else:
        message = f"непонятная строка вне секции: «{_shorten(line)}»"
    return StatementError(message, number)
