"""Sane bounds for what people, files and clients hand us: the one place they are set.

Forms, the statement parser and importer, the domain actions and the API schemas take
their bounds from here, so that a 29-digit amount, a year-1 date or a megabyte purpose
gets a clear message and writes nothing, instead of a database error (bigint overflow,
a 32-bit column, a NUL byte) or a row that the driver cannot read back.

Pure Python (no Django): the statement parser uses it too.
"""

from datetime import date, timedelta

# --- money (integer kopecks) ---------------------------------------------------------

# One document (invoice, payment, price, offer) is at most 10⁹ ₽: far above any
# subscription, far below a bigint, and printable in words on an invoice.
MAX_AMOUNT = 10**9 * 100
# Digits of whole rubles that can fit under MAX_AMOUNT: longer input is refused before
# any arithmetic (a 4 000-digit "amount" is not worth converting).
MAX_AMOUNT_DIGITS = len(str(MAX_AMOUNT // 100))

# --- counts (rows, exports) -------------------------------------------------------------

# Export limits, add-ons and rows live in 32-bit integer columns (PostgreSQL `integer`,
# up to 2³¹ − 1); 10⁹ leaves room for an add-on on top of a limit.
MAX_COUNT = 1_000_000_000

# --- dates -------------------------------------------------------------------------------

# A bank document (payment order, statement) is dated from 2000 on, and at most a day
# ahead of the seller's today (a statement made just after midnight in an eastern time
# zone). Outside it a date is a typo or an attack: year 1 is stored as 1 BC in Moscow's
# historical offset and breaks every page that reads the row.
EARLIEST_BANK_DATE = date(2000, 1, 1)
BANK_DATE_LEAD = timedelta(days=1)
# An offer is valid for at most this long from today.
MAX_OFFER_VALIDITY = timedelta(days=3 * 366)

# --- text ---------------------------------------------------------------------------------

# A bank's payment purpose holds up to 210 characters; a purpose far longer is cut to this
# before matching (the staff see a note), so one document cannot hold a worker for long.
MAX_PURPOSE_CHARS = 1000
# Any other value of a bank statement (names, numbers, accounts).
MAX_STATEMENT_VALUE_CHARS = 1000
# Free text people type (notes, comments, answers, support messages).
MAX_NOTE_CHARS = 5000
# An API request body; larger ones get 413 (Django's DATA_UPLOAD_MAX_MEMORY_SIZE too).
MAX_API_BODY_BYTES = 2_621_440


def amount_ok(kopecks: int) -> bool:
    return 0 <= kopecks <= MAX_AMOUNT


def count_ok(count: int) -> bool:
    return 0 <= count <= MAX_COUNT


def bank_date_window(today: date) -> tuple[date, date]:
    """First and last day a bank document may carry, both included."""
    return EARLIEST_BANK_DATE, today + BANK_DATE_LEAD


# PostgreSQL text cannot hold NUL (COPY and INSERT fail on it); no name, number or
# purpose has one. Django's form fields refuse it already; files are checked for it.
NUL = "\x00"
