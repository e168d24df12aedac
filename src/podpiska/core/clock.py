"""The one source of the current time.

Everything asks `now()`; tests and the demo move time like Stripe's test clocks:
`freeze(dt)` pins it, `shift(delta)` moves it forward. The demo keeps its offset in the
database (`ClockOffset`) so that the web and worker processes agree; `load_offset()`
reads it once per request or tick.
"""

import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

_lock = threading.Lock()
_frozen: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return timezone.now() + _offset


def freeze(at: datetime) -> None:
    global _frozen
    if timezone.is_naive(at):
        raise ValueError("the clock takes aware datetimes only")
    with _lock:
        _frozen = at


def shift(delta: timedelta) -> None:
    """Move time forward (or back); works frozen or running."""
    global _frozen, _offset
    with _lock:
        if _frozen is not None:
            _frozen = _frozen + delta
        else:
            _offset = _offset + delta


def reset() -> None:
    global _frozen, _offset
    with _lock:
        _frozen = None
        _offset = timedelta(0)


def offset() -> timedelta:
    return _offset


def test_clock_allowed() -> bool:
    """Staff may move time: demo or test settings, and a database `podpiska demo` made.

    Settings alone are not enough: demo settings on the production database must not
    let anyone move the time its subscriptions and invoices are judged by.
    """
    if not settings.PODPISKA.get("ALLOW_TEST_CLOCK"):
        return False
    from podpiska.core.demo_database import is_demo_database

    return is_demo_database()


def load_offset() -> None:
    """Take the demo's stored offset (no-op outside the demo, and when frozen by a test)."""
    global _offset
    if not test_clock_allowed() or _frozen is not None:
        return
    from podpiska.core.models import ClockOffset

    stored = ClockOffset.objects.filter(pk=1).values_list("seconds", flat=True).first()
    with _lock:
        _offset = timedelta(seconds=stored or 0)


def store_offset(delta: timedelta) -> None:
    """Persist a new demo offset (staff time travel)."""
    if not test_clock_allowed():
        raise PermissionError("the test clock is off in this environment")
    from podpiska.core.models import ClockOffset

    ClockOffset.objects.update_or_create(pk=1, defaults={"seconds": int(delta.total_seconds())})
    load_offset()
