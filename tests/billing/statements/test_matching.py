"""Finding invoice numbers in payment purposes and judging a payment against invoices."""

from types import SimpleNamespace

import pytest

from podpiska.billing.models import OrderStatus, QueueReason
from podpiska.billing.statements.matching import InvoiceFacts, invoice_references, match

INN = "7701234567"


@pytest.mark.parametrize(
    ("purpose", "expected"),
    [
        ("Оплата по счёту № 2026-00017 от 27.11.2026 за доступ к сервису", [(2026, 17)]),
        ("Оплата по счету №2026-17. В т.ч. НДС 22%", [(2026, 17)]),
        ("оплата сч.№2026/17 от 20.11.2026", [(2026, 17)]),
        ("Оплата счета № 2026 - 00017", [(2026, 17)]),
        ("счет 2026–17 (тире)", [(2026, 17)]),
        ("Счет№2026-00017,сумма 134400-00", [(2026, 17)]),
        ("По счетам 2026-00017 и 2026-00018", [(2026, 17), (2026, 18)]),
        ("2026-00017; повторно 2026-17", [(2026, 17)]),
        ("Оплата по счету 2026-00017", [(2026, 17)]),
    ],
)
def test_invoice_numbers_are_found_however_written(purpose, expected):
    assert invoice_references(purpose) == expected


@pytest.mark.parametrize(
    "purpose",
    [
        "Оплата по договору от 27.11.2026-1",  # a date, then something
        "Оплата за период 27-11-2026",  # a date with dashes
        "Оплата 2026-11-27 по договору",  # an ISO date
        "Сумма 52026-50 руб.",  # part of an amount
        "Сумма 2026-50 руб., НДС не облагается",  # an amount in rubles
        "Оплата 2026-17.50",  # an amount with kopecks
        "Доступ на 2026-2027 гг.",  # a span of years
        "Оплата по счёту № 17",  # no year: not a number we can trust
        "Оплата по счёту 2026-0",
        "",
    ],
)
def test_dates_amounts_and_year_spans_are_not_invoice_numbers(purpose):
    assert invoice_references(purpose) == []


def facts(pk, number, *, inn=INN, total=13_440_000, status=OrderStatus.AWAITING_PAYMENT, org=1):
    return InvoiceFacts(pk, 2026, number, inn, total, pk * 10, status, org)


def doc(purpose, *, inn=INN, amount=13_440_000):
    return SimpleNamespace(purpose=purpose, payer_inn=inn, amount=amount)


def test_one_named_invoice_and_the_buyers_inn_is_a_full_match():
    invoice = facts(1, 17)
    verdict = match(doc("Оплата по счёту № 2026-00017"), {invoice.key: invoice})
    assert verdict.invoice == invoice and verdict.is_full and verdict.reason == ""


def test_amount_is_left_to_apply_payment():
    invoice = facts(1, 17)
    verdict = match(doc("счёт 2026-17", amount=100), {invoice.key: invoice})
    assert verdict.invoice == invoice  # apply_payment queues it as underpaid


def test_a_closed_order_still_names_its_invoice_and_says_why():
    cancelled = facts(1, 17, status=OrderStatus.CANCELLED)
    paid = facts(2, 18, status=OrderStatus.FULFILLED)
    by_key = {cancelled.key: cancelled, paid.key: paid}
    assert match(doc("2026-17"), by_key).reason == QueueReason.ORDER_CLOSED
    assert match(doc("2026-18"), by_key).reason == QueueReason.ALREADY_PAID
    assert not match(doc("2026-18"), by_key).is_full


def test_another_payer_inn_is_queued_with_the_named_invoice_suggested():
    invoice = facts(1, 17)
    other = facts(5, 40, inn="5001234567")
    verdict = match(
        doc("2026-00017", inn="5001234567"),
        {invoice.key: invoice},
        open_by_inn={"5001234567": [other]},
    )
    assert verdict.invoice is None and verdict.reason == QueueReason.INN_MISMATCH
    assert verdict.suggestions == [1, 5]


def test_a_foreign_payer_with_a_junk_inn_is_queued():
    invoice = facts(1, 17)
    verdict = match(doc("Invoice 2026-00017", inn="4"), {invoice.key: invoice})
    assert verdict.reason == QueueReason.INN_MISMATCH and verdict.suggestions == [1]


def test_two_named_invoices_are_ambiguous():
    a, b = facts(1, 17), facts(2, 18)
    verdict = match(doc("2026-17, 2026-18"), {a.key: a, b.key: b})
    assert verdict.reason == QueueReason.AMBIGUOUS and verdict.suggestions == [1, 2]


def test_an_unknown_number_is_no_match_with_suggestions_by_inn_then_amount_capped_at_five():
    by_inn = [facts(pk, pk) for pk in (10, 11)]
    by_amount = [facts(pk, pk) for pk in (11, 12, 13, 14, 15, 16)]
    verdict = match(
        doc("Оплата по счёту 2026-99999"),
        {},
        open_by_inn={INN: by_inn},
        open_by_amount={13_440_000: by_amount},
    )
    assert verdict.invoice is None and verdict.reason == QueueReason.NO_MATCH
    assert verdict.suggestions == [10, 11, 12, 13, 14]


def test_an_empty_payer_inn_suggests_nothing_by_inn():
    stray = facts(3, 3, inn="")
    verdict = match(doc("без счёта", inn=""), {}, open_by_inn={"": [stray]})
    assert verdict.suggestions == []
