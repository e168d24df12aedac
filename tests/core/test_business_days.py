from datetime import date

from podpiska.core.business_days import add_business_days, is_business_day, subtract_business_days


def test_holidays_and_transferred_days_off():
    assert not is_business_day(date(2026, 1, 5))  # New Year holidays
    assert not is_business_day(date(2025, 5, 2))  # day off moved from 04.01.2025
    assert not is_business_day(date(2025, 12, 31))  # moved from 05.01.2025
    assert not is_business_day(date(2025, 11, 3))  # moved from Saturday 01.11.2025


def test_saturdays_made_working_days():
    assert is_business_day(date(2025, 11, 1))
    assert is_business_day(date(2027, 2, 20))
    assert not is_business_day(date(2026, 11, 28))  # an ordinary Saturday


def test_add_business_days_skips_weekends_and_holidays():
    assert add_business_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri -> Mon
    assert add_business_days(date(2025, 12, 30), 1) == date(2026, 1, 12)


def test_subtract_business_days_for_the_bank_delay():
    # 3 business days before Monday 30.11.2026: Wed 25.11.
    assert subtract_business_days(date(2026, 11, 30), 3) == date(2026, 11, 25)
    # Before the New Year holidays of 2027 the last day falls in December.
    assert subtract_business_days(date(2027, 1, 10), 3) == date(2026, 12, 28)
