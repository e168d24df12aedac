"""Matching a hostile payment purpose: a megabyte of distinct invoice-like tokens.

One such document once held a web worker for minutes (repeats were removed with `in` on
a list: 16 000 / 32 000 / 64 000 tokens took 3 / 18 / 66 s). `invoice_references` now
reads only the first `limits.MAX_PURPOSE_CHARS` characters and removes repeats with a
dict. Reported against the baseline of the same run — one pass of `str.count` over the
same megabyte, the least anything that looks at the purpose at all must spend — and
against an ordinary purpose of a bank's 210 characters; `uncapped_*` runs the same
token scan over the whole megabyte, to show it is linear even without the cap.
"""

import time

from podpiska.billing.statements import matching
from podpiska.core import limits

SIZES = (1 << 18, 1 << 19, 1 << 20)
REPEATS = 5


def _tokens(size: int) -> str:
    parts, length, n = [], 0, 1
    while length < size:
        part = f"2026-{n:05d} "
        parts.append(part)
        length += len(part)
        n = n % 99_999 + 1
    return "".join(parts)[:size]


def _best(call, *args) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        call(*args)
        best = min(best, time.perf_counter() - started)
    return best


def _uncapped(purpose: str) -> int:
    seen: dict = {}
    for year, number in matching._INVOICE_REFERENCE.findall(purpose):
        seen[(int(year), int(number))] = None
    return len(seen)


def run(report: dict) -> None:
    megabyte = _tokens(1 << 20)
    ordinary = ("Оплата по счёту № 2026-00017 от 27.11.2026 за доступ к сервису, "
                "НДС 22 % — 24 236-07 руб.").ljust(210, " ")
    floor = _best(megabyte.count, "2026")
    capped = _best(matching.invoice_references, megabyte)
    report["purpose_chars"] = len(megabyte)
    report["floor_ms"] = round(floor * 1000, 3)
    report["capped_ms"] = round(capped * 1000, 3)
    report["capped_to_floor"] = round(capped / floor, 2)
    report["capped_to_ordinary_purpose"] = round(capped / _best(matching.invoice_references, ordinary), 2)
    for size in SIZES:
        report[f"uncapped_{size // 1024}k_ms"] = round(_best(_uncapped, _tokens(size)) * 1000, 1)
    # Linear: doubling the purpose about doubles the time (quadratic would quadruple it).
    report["uncapped_1m_to_256k"] = round(
        report[f"uncapped_{SIZES[-1] // 1024}k_ms"] / report[f"uncapped_{SIZES[0] // 1024}k_ms"], 2
    )
    report["max_purpose_chars"] = limits.MAX_PURPOSE_CHARS
