"""Staff move the demo's clock (/staff/clock/): audited like every staff change."""

from datetime import timedelta

from django.db import transaction

from podpiska.audit.log import record
from podpiska.core import clock
from podpiska.core.models import ClockOffset


def set_clock_offset(offset: timedelta, *, actor) -> None:
    """Store the demo's new offset from real time (0 = back to real time)."""
    with transaction.atomic():
        before = {"seconds": int(clock.offset().total_seconds())}
        clock.store_offset(offset)
        record("core.clock_moved", ClockOffset.objects.get(pk=1), actor=actor, before=before,
               after={"seconds": int(offset.total_seconds())})
