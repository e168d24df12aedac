"""Hostile inputs found by the attack and fault probe, kept as fixtures.

Each once gave a 500, a traceback or a row that broke a page for everyone; the tests
that use them assert a clear Russian message naming the field (and line) and that
nothing was written.
"""

# Dates: year 1 was stored as 1 BC in Moscow's historical +2:30:17 offset, which the
# driver cannot read back; the others lie outside any bank's dates.
DATES = ["01.01.0001", "31.12.9999", "31.12.1999", "29.02.2100"]
DATES_ISO = ["0001-01-01", "9999-12-31", "1999-12-31"]

# Amounts: 19+ digits overflowed bigint (DataError); 4 000 digits too; 29 digits in a
# staff form; 10¹⁵ rubles is beyond any sane document.
AMOUNTS = [
    "1" * 19 + ".00",
    "9" * 4000,
    "1" * 29,
    "1000000000000000",
]
# Counts for 32-bit integer columns: 2³¹ and beyond.
COUNTS = [str(2**31), str(2**31 - 1 + 10**9), "9" * 30]

# A NUL byte in a name (PostgreSQL's COPY refused it after an empty StatementImport
# row was written).
NUL_NAME = "ООО «Ноль\x00»"
NUL_TEXTS = [NUL_NAME, "Оплата\x00по счёту", "\x00"]


def invoice_token_purpose(size: int = 1 << 20) -> str:
    """A purpose of `size` characters holding nothing but distinct invoice-like tokens:
    matching with a list's `in` took minutes on it."""
    tokens, length, n = [], 0, 1
    while length < size:
        token = f"2026-{n:05d} "
        tokens.append(token)
        length += len(token)
        n = n % 99_999 + 1
    return "".join(tokens)[:size]
