"""A server process loads the PDF and calendar machinery at start, not on a customer's request."""

import os
import subprocess
import sys

SCRIPT = """
import sys, threading
import django
django.setup()
assert "weasyprint" not in sys.modules and "holidays" not in sys.modules  # setup alone pays nothing
import podpiska.wsgi  # what gunicorn imports; `podpiska serve` starts the same thread
from podpiska.web.warmup import THREAD_NAME
thread = next(t for t in threading.enumerate() if t.name == THREAD_NAME)
thread.join(120)
assert not thread.is_alive()
for module in ("weasyprint", "holidays.countries.russia", "podpiska.demo.views"):
    assert module in sys.modules, module
print("warm")
"""


def test_a_web_process_warms_up_in_the_background():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "podpiska.settings.test"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("warm")


def test_a_failed_warm_up_is_logged_not_raised(monkeypatch, caplog):
    from podpiska.web import warmup

    def broken():
        raise OSError("no fonts")

    monkeypatch.setattr(warmup, "warm_up", broken)
    thread = warmup.start_warm_up_in_background()
    thread.join(10)
    assert "warm-up failed" in caplog.text
