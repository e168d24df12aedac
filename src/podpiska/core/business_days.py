"""Business days on the Russian production calendar.

The `holidays` package knows Russia's public holidays, the days off moved by government
decree (e.g. 02.05.2025) and the Saturdays made working days (e.g. 01.11.2025), which is
what a bank's «3 рабочих дня» means.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=16)
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.Russia(years=[year])


def is_business_day(day: date) -> bool:
    return _calendar(day.year).is_working_day(day)


def add_business_days(day: date, count: int) -> date:
    """The date `count` business days after `day` (count >= 0; 0 -> the day itself)."""
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def subtract_business_days(day: date, count: int) -> date:
    """The last date from which `count` business days still fit before `day`.

    For «pay by bank transfer by this day»: a payment sent on the result arrives
    `count` business days later, no later than `day`.
    """
    current = day
    remaining = count
    while remaining > 0:
        current -= timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    while not is_business_day(current):
        current -= timedelta(days=1)
    return current
