"""The first invoice PDF of a server process, cold and after the start-up warm-up, and
where sign-in spends its time.

Each PDF figure comes from a fresh Python process (what a new web worker is) rendering
the same invoice page, and is reported as a ratio to that process's second render — the
steady cost measured in the same run. Sign-in is reported against the password hasher's
own cost measured in the same run: the hasher is deliberate, the rest is overhead.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.contrib.auth.hashers import get_hasher
from django.test import Client

from podpiska.accounts.models import Organization, User
from podpiska.billing.actions import place_order
from podpiska.billing.invoice_render import render_invoice_html
from podpiska.demo.data import PASSWORD, load_accounts, load_catalog

USER = "paid@demo.local"

# A web process: Django set up; "warm" also ran the start-up warm-up before the request.
CHILD = """
import sys, time
import django
django.setup()
html = open(sys.argv[1], encoding="utf-8").read()
if sys.argv[2] == "warm":
    from podpiska.web.warmup import warm_up
    warm_up()
start = time.perf_counter()
from weasyprint import HTML
HTML(string=html).write_pdf()
first = time.perf_counter() - start
start = time.perf_counter()
HTML(string=html).write_pdf()
print(first, time.perf_counter() - start)
"""


def _invoice_html() -> str:
    tariffs = load_catalog()
    load_accounts(tariffs)
    user = User.objects.get(email=USER)
    organization = Organization.objects.get(inn="7707083893")
    order = place_order(organization=organization, user=user, kind="renew", payment_method="invoice",
                        idempotency_key="bench-first-pdf", tariff=tariffs["200"])
    return render_invoice_html(order.invoice, for_pdf=True)


def _pdf(html_file: Path, mode: str) -> tuple[float, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(html_file), mode],
                          capture_output=True, text=True, timeout=600, check=True)
    first, steady = (float(x) for x in done.stdout.split()[-2:])
    return first, steady


def run(report: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        html_file = Path(folder) / "invoice.html"
        html_file.write_text(_invoice_html(), encoding="utf-8")
        cold_first, cold_steady = _pdf(html_file, "cold")
        warm_first, warm_steady = _pdf(html_file, "warm")

    hasher = get_hasher()
    start = time.perf_counter()
    hasher.verify(PASSWORD, User.objects.get(email=USER).password)
    hasher_seconds = time.perf_counter() - start
    client = Client(HTTP_HOST="127.0.0.1")
    start = time.perf_counter()
    response = client.post("/login/", {"username": USER, "password": PASSWORD})
    login_seconds = time.perf_counter() - start
    assert response.status_code == 302, response.status_code

    report.update(
        pdf_cold_first_seconds=round(cold_first, 2),
        pdf_cold_first_to_steady=round(cold_first / cold_steady, 1),
        pdf_warmed_first_seconds=round(warm_first, 2),
        pdf_warmed_first_to_steady=round(warm_first / warm_steady, 1),
        login_seconds=round(login_seconds, 3),
        hasher_seconds=round(hasher_seconds, 3),
        login_to_hasher=round(login_seconds / hasher_seconds, 2),
    )
