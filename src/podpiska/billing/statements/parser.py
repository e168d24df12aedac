"""Parser for bank statements in the 1CClientBankExchange format (versions 1.02 and 1.03).

Pure Python, no Django: bytes in, dataclasses out, `StatementError` (Russian message and a
1-based line number) for anything malformed. Money is integer kopecks, never float.

The text is read a line at a time between sections and a section at a time inside them:
the section's end marker is found with `str.find`, its lines go into a dict of keys and
values (`_Reader._section`), and the dataclass is built from that dict (`_document`,
`_account_section`). Spaces and tabs around a line or its first "=" do not count; files
rarely have them, so they are looked for where the text is read, and a file that has
them is tidied and read again.

One shortcut, for speed: banks write the documents of a kind with the same keys in the
same order, and once two in a row are read so, the next ones of that kind are read by
one match of a pattern of those keys (`_Layout`), which gives the same dict. A year of
statements (100 000 documents) then parses in about 1.6 times `floor_pass`; line by line
alone it takes twice that floor or more (`parse_to_floor` in the statement_import
benchmark, which allows 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from podpiska.core import collector, limits

SIGNATURE = "1CClientBankExchange"
DOCUMENT_START = "СекцияДокумент"
DOCUMENT_END = "КонецДокумента"
ACCOUNT_START = "СекцияРасчСчет"
ACCOUNT_END = "КонецРасчСчет"
FILE_END = "КонецФайла"

# Lines without "=" that mark the structure; any other such line inside a section is an error.
_MARKERS = frozenset({ACCOUNT_START, ACCOUNT_END, DOCUMENT_END, FILE_END})
_SECTION_OF_END = {DOCUMENT_END: DOCUMENT_START, ACCOUNT_END: ACCOUNT_START}
_PURPOSE_PARTS = tuple(f"НазначениеПлатежа{n}" for n in range(1, 7))
# Layouts (see `_Layout`) are looked for in this many kinds of document at most, and
# compiled for one file up to this many keys in all (a tenth of a millisecond a key): a
# file of more kinds or of many or huge layouts reads the rest line by line.
_LAYOUT_KINDS = 64
_LAYOUT_KEYS = 1000
# DOS files may end with Ctrl-Z, some exports pad with NULs: neither is content.
_FILE_PADDING = "\x00\x1a \t"
_EDGE_WHITESPACE = " \t"

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
    # copy of each section would double the parse's memory, and a dict per document
    # would cost more than the rest of it. `source` and `raw` are read from it on demand.
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
        try:
            return _Reader(text, newline, _Dates(first, last)).read(encoding)
        except _Untidy:
            pass
        # Spaces or tabs to remove somewhere: the text is tidied whole and read again.
        text = _tidy(text, newline)
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


# --- the text ----------------------------------------------------------------------------


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


def _is_tidy(block: str, newline: str) -> bool:
    """Whether every line of `block` is as `_tidy_line` leaves it.

    A few searches clear almost every block; a suspect one (a purpose such as "x = y")
    is then checked line by line.
    """
    if not (
        "\t" in block
        or block[:1] == " "
        or block[-1:] == " "
        # A text with CRLF has no lone CR or LF, so half of its newline is enough.
        or " " + newline[0] in block
        or newline[-1] + " " in block
        or " =" in block
        or "= " in block
    ):
        return True
    return all(line == _tidy_line(line) for line in block.split(newline))


def _tidy(text: str, newline: str) -> str:
    """The text with spaces and tabs removed around each line and its first "="; line
    numbers stay."""
    return newline.join(map(_tidy_line, text.split(newline)))


def _tidy_line(line: str) -> str:
    key, sep, value = line.strip(_EDGE_WHITESPACE).partition("=")
    if not sep:
        return key
    return f"{key.rstrip(_EDGE_WHITESPACE)}={value.lstrip(_EDGE_WHITESPACE)}"


def _shorten(line: str, limit: int = 60) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _body_dict(body: str) -> dict[str, str]:
    # A body comes from a text with one newline style, so its own newline tells which.
    newline = "\r\n" if "\r\n" in body else "\r" if "\r" in body else "\n"
    raw: dict[str, str] = {}
    for line in body.split(newline):
        key, sep, value = line.partition("=")
        if sep:
            raw[key] = value
    return raw


# --- values ------------------------------------------------------------------------------


class _Dates(dict):
    """Dates parsed so far by their text, and the window they must lie in."""

    def __init__(self, first: date, last: date) -> None:
        super().__init__()
        self.first = first
        self.last = last


class _Untidy(Exception):
    """A line read has spaces or tabs to remove: the whole text is tidied and read again."""


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
    value = raw.get(key)
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


# --- sections ----------------------------------------------------------------------------


class _Section(NamedTuple):
    """Where a section is: `number` is its opening line, its `count` lines are at
    `start:end` in the text, and the next line starts at `after`."""

    number: int
    start: int
    end: int
    count: int
    after: int


class _Layout(NamedTuple):
    """The keys of a document section in their order, as one compiled pattern.

    A pattern of the keys, each followed by "=" and a value up to the line end, reads a
    whole section in one match. A section it matches is one `_Reader._section`, the
    reference, reads to the same keys and values: every line a key and a value, none
    empty, stray or untidy (a value starts and ends with neither space nor tab), the
    keys distinct, no other section opening inside, the end marker closing it. Any other
    section is read line by line.
    """

    pattern: re.Pattern[str]
    keys: tuple[str, ...]
    # From the match's end back to the end of the section's lines.
    tail: int


def _compile_layout(keys: tuple[str, ...], newline: str) -> _Layout:
    line_end = re.escape(newline)
    value = r"((?![ \t])[^\r\n]*+(?<![ \t]))"
    lines = "".join(f"{re.escape(key)}={value}{line_end}" for key in keys)
    pattern = re.compile(f"{lines}{re.escape(DOCUMENT_END)}{line_end}")
    return _Layout(pattern, keys, len(DOCUMENT_END) + 2 * len(newline))


def _document(kind: str, raw: dict[str, str], section: _Section, text: str, dates: _Dates) -> Document:
    """The one place a Document is built, from its section's keys and values."""
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
    return Document(
        kind=kind,
        number=number,
        date=doc_date,
        amount=amount,
        payer_account=get("ПлательщикСчет") or get("ПлательщикРасчСчет", ""),
        payer_name=get("Плательщик") or get("Плательщик1", ""),
        payer_inn=get("ПлательщикИНН", ""),
        payer_kpp=get("ПлательщикКПП", ""),
        payer_bik=get("ПлательщикБИК", ""),
        payer_bank=get("ПлательщикБанк1", ""),
        payee_account=get("ПолучательСчет") or get("ПолучательРасчСчет", ""),
        payee_name=get("Получатель") or get("Получатель1", ""),
        payee_inn=get("ПолучательИНН", ""),
        payee_kpp=get("ПолучательКПП", ""),
        payee_bik=get("ПолучательБИК", ""),
        payee_bank=get("ПолучательБанк1", ""),
        date_debited=_date(get("ДатаСписано", ""), "ДатаСписано", dates),
        date_credited=_date(get("ДатаПоступило", ""), "ДатаПоступило", dates),
        purpose=purpose,
        line=section.number,
        file_text=text,
        start=section.start,
        end=section.end,
    )


def _account_section(raw: dict[str, str], section: _Section, dates: _Dates) -> AccountSection:
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


class _Reader:
    """One pass over the text: a line at a time between sections, a section at a time
    inside them. Line numbers are counted, not searched for. Every line is checked to be
    tidy where it is read (see `parse_statement`)."""

    def __init__(self, text: str, newline: str, dates: _Dates) -> None:
        self.text = text
        self.newline = newline
        self.dates = dates
        # Per kind of document, the keys of the last one read line by line, and their
        # layout once compiled.
        self.kinds: dict[str, tuple[tuple[str, ...] | None, _Layout | None]] = {}
        self.layout_keys = _LAYOUT_KEYS

    def read(self, encoding: str) -> Statement:
        text, newline, dates = self.text, self.newline, self.dates
        header: dict[str, str] = {}
        accounts: list[str] = []
        account_sections: list[AccountSection] = []
        documents: list[Document] = []
        pos, number = self._after_signature()
        while pos <= len(text):
            eol, line = self._line(pos)
            key, sep, value = line.partition("=")
            if sep and key == DOCUMENT_START:
                section, raw = self._document_section(value, number, eol + len(newline))
                try:
                    documents.append(_document(value, raw, section, text, dates))
                except _FieldError as error:
                    raise self._at_key(section, error) from None
            elif line == ACCOUNT_START:
                section, raw = self._section(number, eol + len(newline), ACCOUNT_END)
                try:
                    account_sections.append(_account_section(raw, section, dates))
                except _FieldError as error:
                    raise self._at_key(section, error) from None
            elif line == FILE_END:
                self._check_rest(eol, number)
                self._check_characters(pos)
                _check_periods(account_sections, documents)
                return Statement(encoding, header, accounts, account_sections, documents)
            else:
                if sep and not documents and not account_sections:
                    header[key] = value
                    if key == "РасчСчет":
                        accounts.append(value)
                elif line:
                    raise _stray(line, number, sep)
                pos, number = eol + len(newline), number + 1
                continue
            pos, number = section.after, number + section.count + 2
        raise StatementError("файл оборван: нет строки КонецФайла", self._last_line())

    def _document_section(
        self, kind: str, number: int, start: int
    ) -> tuple[_Section, dict[str, str]]:
        """A document's section, and its keys and values.

        Read with the layout of its kind if there is one and it matches; else line by
        line. Two documents of a kind in a row read line by line with the same keys make
        that the layout of the kind.
        """
        keys, layout = self.kinds.get(kind, (None, None))
        match = layout.pattern.match(self.text, start) if layout else None
        if match:
            section = _Section(number, start, match.end() - layout.tail, len(layout.keys), match.end())
            return section, dict(zip(layout.keys, match.groups(), strict=True))
        section, raw = self._section(number, start, DOCUMENT_END)
        if len(raw) != section.count:  # an empty line or a key twice: no layout
            return section, raw
        if tuple(raw) != keys:
            if kind in self.kinds or len(self.kinds) < _LAYOUT_KINDS:
                self.kinds[kind] = (tuple(raw), None)
        elif layout is None and len(keys) <= self.layout_keys:
            self.layout_keys -= len(keys)
            self.kinds[kind] = (keys, _compile_layout(keys, self.newline))
        return section, raw

    def _section(self, number: int, start: int, end_marker: str) -> tuple[_Section, dict[str, str]]:
        """The lines from `start` up to the line `end_marker`, as keys and values.

        Empty lines are skipped; a line without "=", or one that opens or ends another
        section, is refused: the section was not closed where it should have been.
        """
        text, newline = self.text, self.newline
        marker = self._find_line(end_marker, start)
        end = marker - len(newline) if marker >= 0 else len(text)
        body = text[start:end]
        # An untidy end marker is not found as one: its section runs on over it.
        if not _is_tidy(body, newline):
            raise _Untidy
        lines = body.split(newline) if end >= start else []
        raw: dict[str, str] = {}
        for line in lines:
            key, sep, value = line.partition("=")
            if sep and key != DOCUMENT_START:
                raw[key] = value
            elif line:
                # The first line refused: an equal line before it would have been too.
                raise self._refused(line, number, number + lines.index(line) + 1, end_marker)
        if marker < 0:
            raise StatementError(
                f"файл оборван: секция {_SECTION_OF_END[end_marker]} из строки {number} не "
                f"закрыта строкой {end_marker}, нет КонецФайла",
                self._last_line(),
            )
        after = marker + len(end_marker) + len(newline)
        return _Section(number, start, max(start, end), len(lines), after), raw

    def _at_key(self, section: _Section, error: _FieldError) -> StatementError:
        """The error at the line of its key. Errors are rare, so the line is looked up
        only now; the last occurrence wins, as it does in the dict. A missing key is
        reported at the section's first line."""
        lines = self.text[section.start : section.end].split(self.newline)
        for offset in range(len(lines), 0, -1):
            key, sep, _ = lines[offset - 1].partition("=")
            if sep and key == error.key:
                return StatementError(error.message, section.number + offset)
        return StatementError(error.message, section.number)

    def _find_line(self, line: str, start: int) -> int:
        """Start of the first line from `start` on that is exactly `line`, or -1."""
        text, newline = self.text, self.newline
        # The newline before `start` may precede it; the last line has none after it.
        found = text.find(f"{newline}{line}{newline}", start - len(newline))
        if found >= 0:
            return found + len(newline)
        last = len(text) - len(line)
        return last if last >= start and text.endswith(newline + line) else -1

    def _line(self, pos: int) -> tuple[int, str]:
        """End and text of the line at `pos`."""
        eol = self.text.find(self.newline, pos)
        if eol < 0:
            eol = len(self.text)
        line = self.text[pos:eol]
        if not _is_tidy(line, self.newline):
            raise _Untidy
        return eol, line

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

    @staticmethod
    def _refused(line: str, number: int, at: int, end_marker: str) -> StatementError:
        name = _SECTION_OF_END[end_marker]
        key, sep, _ = line.partition("=")
        if line in _MARKERS or (sep and key == DOCUMENT_START):
            return StatementError(
                f"секция {name} из строки {number} не закрыта строкой {end_marker}: "
                f"встретилась строка «{_shorten(line)}»",
                at,
            )
        return StatementError(f"строка без «=» в секции {name} из строки {number}: «{_shorten(line)}»", at)

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
                    f"данные после КонецФайла: «{_shorten(_tidy_line(line))}»",
                    number + offset,
                )

    def _last_line(self) -> int:
        """Number of the last non-empty line, where a truncated file stops."""
        return self.text.rstrip("\r\n").count(self.newline) + 1


def _stray(line: str, number: int, sep: str) -> StatementError:
    if line in (DOCUMENT_END, ACCOUNT_END):
        message = f"строка «{line}» без начала секции"
    elif sep:
        message = f"строка вне секции: «{_shorten(line)}»"
    else:
        message = f"непонятная строка вне секции: «{_shorten(line)}»"
    return StatementError(message, number)


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
