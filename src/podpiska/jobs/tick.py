"""The periodic tick: the one list of due work, each domain's job called in turn.

It sits above the domain apps so that none of them imports another to run its jobs.
`podpiska tick` runs it once (for cron), `podpiska worker` runs it every minute next to
the task queue, and the demo server may run it in a thread. Every step is safe to run
twice or in two processes at once: reminders are guarded by a unique constraint, outbox
rows are sent under a row lock, orders expire by a conditional update.
"""

import logging
import threading
from datetime import datetime

from django.db import close_old_connections

from podpiska.core import clock

logger = logging.getLogger(__name__)

TICK_SECONDS = 60


def _steps():
    """The due work, in order: expire overdue orders first (no reminder for an invoice
    that just expired), re-check online payments whose notification never came, then
    reminders (they queue e-mails and webhook deliveries), then send what is queued."""
    from podpiska.billing import reminders
    from podpiska.billing.actions import expire_overdue_orders
    from podpiska.billing.online import refresh_pending_online_payments
    from podpiska.notifications import email, webhooks

    return [
        ("expired_orders", expire_overdue_orders),
        ("online_payments", refresh_pending_online_payments),
        ("reminders", reminders.send_due_reminders),
        ("emails", email.send_due),
        ("webhooks", webhooks.deliver_due),
    ]


def run_tick(now: datetime | None = None) -> dict[str, int]:
    """Run every due job once; one failing job does not stop the others."""
    clock.load_offset()
    results: dict[str, int] = {}
    for name, job in _steps():
        try:
            # Each step reads the clock afresh, so e-mails queued by the reminders step
            # a moment ago are already due for the sending step.
            results[name] = int(job(now or clock.now()) or 0)
        except Exception:
            logger.exception("tick step %s failed; it runs again next tick", name)
            results[name] = -1
    return results


class BackgroundTick(threading.Thread):
    """The tick every `interval` seconds in a daemon thread, until `stop()`."""

    def __init__(self, interval: float):
        super().__init__(name="podpiska-tick", daemon=True)
        self.interval = interval
        self._stop_requested = threading.Event()

    def run(self):
        while not self._stop_requested.wait(self.interval):
            try:
                run_tick()
            except Exception:
                logger.exception("background tick failed")
            finally:
                close_old_connections()

    def stop(self, timeout: float | None = None) -> None:
        self._stop_requested.set()
        self.join(timeout)


_background_started = threading.Event()


def start_background_tick(interval: float = TICK_SECONDS) -> BackgroundTick | None:
    """Start the tick thread for the demo server; once per process (None afterwards).

    Production runs `podpiska worker` instead.
    """
    if _background_started.is_set():
        return None
    _background_started.set()
    thread = BackgroundTick(interval)
    thread.start()
    return thread
