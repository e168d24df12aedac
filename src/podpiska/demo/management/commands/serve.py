"""`podpiska serve [ADDR:PORT]`: a threaded server for the demo and small installs.

Threaded, so the demo's company directory can call the API on the same server without
deadlocking. Production runs the WSGI app under gunicorn instead (see README).
"""

import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import WSGIServer, run
from django.core.wsgi import get_wsgi_application

ADDR_RE = re.compile(r"^(?:(?P<host>[^:]+|\[[0-9a-fA-F:]+\]):)?(?P<port>\d+)$")


class Command(BaseCommand):
    help = "Запускает веб-сервер (по умолчанию 127.0.0.1:8000)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        match = ADDR_RE.match(addrport)
        if not match:
            raise CommandError(f"адрес должен быть вида ADDR:PORT, а не {addrport!r}", returncode=2)
        host = (match["host"] or "127.0.0.1").strip("[]")
        port = int(match["port"])
        url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
        self.stdout.write(f"Подписка работает: {url}")
        if settings.PODPISKA.get("ALLOW_TEST_CLOCK"):
            from podpiska.demo.data import PASSWORD
            from podpiska.demo.management.commands.demo import LOGINS

            self.stdout.write(f"Демо-входы (пароль {PASSWORD}):")
            for email, what in LOGINS:
                self.stdout.write(f"  {email:<22} {what}")
            self.stdout.write(f"Бэк-офис: {url}staff/")
            # The demo needs no separate worker: reminders, e-mails and webhooks go
            # from a background thread. Production runs `podpiska worker`.
            from podpiska.jobs.tick import start_background_tick

            start_background_tick()
        self.stdout.flush()
        from podpiska.web.warmup import start_warm_up_in_background

        start_warm_up_in_background()
        run(host, port, get_wsgi_application(), ipv6=":" in host, threading=True, server_cls=WSGIServer)
