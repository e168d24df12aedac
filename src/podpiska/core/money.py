"""Money is an integer number of kopecks everywhere; it is formatted only at the edge."""

from num2words import num2words

NBSP = "\u00a0"


def ru_plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural form for n: 1 рубль, 2 рубля, 5 рублей, 11 рублей, 21 рубль."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def split_rubles(kopecks: int) -> tuple[int, int]:
    if kopecks < 0:
        raise ValueError("amount must not be negative")
    return divmod(kopecks, 100)


def group_thousands(n: int, sep: str = NBSP) -> str:
    return f"{n:,}".replace(",", sep)


def format_amount(kopecks: int, sep: str = NBSP) -> str:
    """134400_00 -> '134 400,00' (no currency sign)."""
    sign = "-" if kopecks < 0 else ""
    rubles, kop = split_rubles(abs(kopecks))
    return f"{sign}{group_thousands(rubles, sep)},{kop:02d}"


def format_rub(kopecks: int) -> str:
    """134400_00 -> '134 400,00 ₽' with no-break spaces, as people read prices."""
    return f"{format_amount(kopecks)}{NBSP}₽"


def format_decimal(kopecks: int) -> str:
    """For machines (YooKassa, statements, QR): '134400.00'."""
    rubles, kop = split_rubles(kopecks)
    return f"{rubles}.{kop:02d}"


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_rubles(text: str) -> int:
    """'134 400,00' / '134400.5' / '1000' -> kopecks, without floats."""
    cleaned = text.strip().replace(NBSP, "").replace(" ", "").replace("₽", "").replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        raise ValueError(f"not an amount: {text!r}")
    rubles, _, kop = cleaned.partition(".")
    # ASCII digits only: str.isdigit and int() also take «١٠٠» or «१००» as 100.
    if not _digits(rubles) or (kop and (not _digits(kop) or len(kop) > 2)):
        raise ValueError(f"not an amount: {text!r}")
    return int(rubles) * 100 + int(kop.ljust(2, "0") or 0)


def vat_inside(total: int, rate_percent: int | None) -> int:
    """VAT contained in a gross total: total × rate/(100+rate), rounded half up to kopecks.

    The one place VAT is computed (SPEC §5); integer arithmetic, no floats.
    """
    if not rate_percent:
        return 0
    if total < 0:
        raise ValueError("amount must not be negative")
    denominator = 100 + rate_percent
    return (2 * total * rate_percent + denominator) // (2 * denominator)


def amount_in_words(kopecks: int) -> str:
    """'Триста двадцать одна тысяча шестьсот рублей 00 копеек' (capitalised, kopecks as digits)."""
    rubles, kop = split_rubles(kopecks)
    words = num2words(rubles, lang="ru")
    text = (
        f"{words} {ru_plural(rubles, 'рубль', 'рубля', 'рублей')} "
        f"{kop:02d} {ru_plural(kop, 'копейка', 'копейки', 'копеек')}"
    )
    return text[0].upper() + text[1:]
