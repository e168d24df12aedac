import pytest
from hypothesis import given
from hypothesis import strategies as st

from podpiska.core.money import (
    amount_in_words,
    format_decimal,
    format_rub,
    parse_rubles,
    ru_plural,
    vat_inside,
)

NB = "\u00a0"


def test_format_rub_groups_thousands_with_no_break_spaces():
    assert format_rub(134_400_00) == f"134{NB}400,00{NB}₽"
    assert format_rub(5) == f"0,05{NB}₽"
    assert format_rub(720_000_00) == f"720{NB}000,00{NB}₽"


def test_vat_22_percent_inside_the_total():
    # 321 600,00 × 22/122 = 57 993,442… -> 57 993,44
    assert vat_inside(321_600_00, 22) == 57_993_44
    # 134 400,00 × 22/122 = 24 236,065… -> 24 236,07
    assert vat_inside(134_400_00, 22) == 24_236_07
    assert vat_inside(52_800_00, 22) == 9_521_31


def test_vat_rounds_half_up():
    # 61 kopecks × 22/122 = 11.0 exactly; 3 kopecks -> 0.54 -> 1
    assert vat_inside(61, 22) == 11
    assert vat_inside(3, 22) == 1
    assert vat_inside(2, 22) == 0


def test_no_vat_for_a_seller_without_vat():
    assert vat_inside(321_600_00, None) == 0


@given(st.integers(min_value=0, max_value=10**13), st.sampled_from([10, 20, 22]))
def test_vat_matches_exact_rational_rounding(total, rate):
    from fractions import Fraction

    exact = Fraction(total * rate, 100 + rate)
    expected = int(exact) + (1 if exact - int(exact) >= Fraction(1, 2) else 0)
    assert vat_inside(total, rate) == expected


def test_amount_in_words():
    assert amount_in_words(321_600_00) == "Триста двадцать одна тысяча шестьсот рублей 00 копеек"
    assert amount_in_words(134_400_00) == "Сто тридцать четыре тысячи четыреста рублей 00 копеек"
    assert amount_in_words(1_01) == "Один рубль 01 копейка"
    assert amount_in_words(2_22) == "Два рубля 22 копейки"
    assert amount_in_words(11_11) == "Одиннадцать рублей 11 копеек"
    assert amount_in_words(21_00) == "Двадцать один рубль 00 копеек"


@pytest.mark.parametrize(
    "n,form", [(1, "a"), (2, "b"), (4, "b"), (5, "c"), (11, "c"), (12, "c"), (21, "a"), (22, "b"), (111, "c")]
)
def test_ru_plural(n, form):
    assert ru_plural(n, "a", "b", "c") == form


@given(st.integers(min_value=0, max_value=10**15))
def test_parse_and_format_round_trip(kopecks):
    assert parse_rubles(format_decimal(kopecks)) == kopecks
    assert parse_rubles(format_rub(kopecks)) == kopecks


@pytest.mark.parametrize("bad", [
    "", "1,2,3", "12.345", "abc", "-5",
    # Digits of other scripts: int() reads them all as 100.
    "١٠٠", "۱۰۰", "१००", "１００", "100,٥٠", "²",
])
def test_parse_rejects_garbage(bad):
    with pytest.raises(ValueError):
        parse_rubles(bad)
