"""Load, once per server process and in the background, what the first request would wait for.

Measured on the demo (2 shared cores): the first page after sign-in spent 0.4–1.9 s
importing the `holidays` package (its registry loads the calendars of every country to
give us Russia's), and the first invoice PDF 5.8–7 s importing WeasyPrint, starting its
font machinery and loading the URL configuration (every view module, the directory's
XLSX and data generator among them). Neither is per request, so a process pays them at start instead of a
customer. The password hasher's cost at sign-in (PBKDF2, Django's 1 000 000 iterations,
0.4–0.8 s) is deliberate and stays.
"""

import logging
import threading
from datetime import date

logger = logging.getLogger(__name__)
THREAD_NAME = "podpiska-warm-up"


def warm_up() -> None:
    from django.urls import get_resolver

    from podpiska.billing.invoice_render import warm_up_pdf
    from podpiska.core.business_days import is_business_day

    get_resolver().check()  # imports every view module, as the first request would
    is_business_day(date.today())
    warm_up_pdf()


def _warm_up_quietly() -> None:
    try:
        warm_up()
    except Exception:  # a failed warm-up only means the first request pays, as before
        logger.exception("warm-up failed")


def start_warm_up_in_background() -> threading.Thread:
    thread = threading.Thread(target=_warm_up_quietly, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread
