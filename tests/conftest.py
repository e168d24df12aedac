from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from podpiska.core import clock as core_clock
from tests import factories

MSK = ZoneInfo("Europe/Moscow")
# A fixed "now" for tests: a Friday in the middle of the day, Moscow time.
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=MSK)


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request served by the test client
    leaves its language active in the thread, and domain code called directly after it
    (letters, messages) would speak that language."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def clock():
    """The project's clock frozen at NOW; move it with clock.shift(timedelta)."""
    core_clock.freeze(NOW)
    yield core_clock
    core_clock.reset()


@pytest.fixture
def tariffs(db):
    return factories.catalog()


@pytest.fixture
def owner(db):
    return factories.make_user("owner@example.com")


@pytest.fixture
def org(db, owner):
    return factories.make_org(user=owner, role="owner")
