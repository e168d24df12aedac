"""Spending the export limit over HTTP: 32 concurrent clients on PostgreSQL.

The Django app is served by a threaded WSGI server (Django's own, one thread per
connection) on a free local port; 32 client threads, each with a keep-alive
httpx.Client, POST exports for one organization whose limit is smaller than the
demand. The baseline is a bare Django view returning JsonResponse, served by the same
server through the same middleware in the same run, so the report gives the ratio
(what the quota costs over Django's floor), not an absolute rate of a shared machine.
It also counts what must be zero: rows spent beyond the limit and 5xx answers. After a
short untimed warm-up of the server, the baseline is measured before the loads and
again after them, and the two averaged.

Two figures: `ratio_to_bare_django`, all 32 clients on one organization (a hot row:
the UPDATEs of its period queue behind each other), and `spread_ratio_to_bare_django`,
each client on an organization of its own. `gunicorn` gives both again with the app
served as in production (gunicorn, production settings, `quota_wsgi.py`), beside the
bare view served the same way.

The bare view touches no database (under the demo settings of the threaded server its
requests, like every request, read the demo clock's marker row; under production
settings nothing). A spending request must at least check a key and write a row, so
the same figures are also given against a bare view that makes one trivial database
round trip (`SELECT 1`): `…_to_bare_db`, the floor of a Django view that needs the
database at all. The headline figures stay those against the bare view.
"""

import importlib.util
import logging
import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
from django.conf import settings
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.db import connection, connections
from django.test.utils import override_settings
from django.urls import include, path

from podpiska.accounts.models import Organization
from podpiska.api.keys import issue_key
from podpiska.core import clock
from podpiska.core.requisites import inn_check_digits
from podpiska.demo.data import load_catalog
from podpiska.subscriptions.models import QuotaPeriod, Subscription
from podpiska.subscriptions.timeline import period_end

CLIENTS = 32
REQUESTS_PER_CLIENT = 40
# Requests per client, not timed, before the first figure: no figure pays the start.
WARM_UP = 5
LIMIT = 2_000  # demand is about 2 560 rows (rows 1..3 per request): some must be refused

def _load_bare_views():
    spec = importlib.util.spec_from_file_location("bare_views", Path(__file__).with_name("bare_views.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bare_views = _load_bare_views()
BARE_PATH, BARE_DB_PATH = bare_views.BARE_PATH, bare_views.BARE_DB_PATH


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Server:
    def __init__(self):
        self.httpd = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
        self.httpd.set_app(get_wsgi_application())
        # After the application is made: setting Django up configures logging afresh,
        # which puts these loggers back to their defaults. One log line per request
        # otherwise (httpx, and Django's 4xx warnings for the 409s).
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("django.request").setLevel(logging.ERROR)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def _organization(n: int = 0, limit: int = LIMIT) -> Organization:
    tariff = load_catalog()["200"]
    org, _ = Organization.objects.get_or_create(
        inn=inn_check_digits(f"7799{n:05d}"),
        defaults=dict(
            name=f"Общество с ограниченной ответственностью «Нагрузка {n}»",
            short_name=f"ООО «Нагрузка {n}»",
            kpp="770101001",
            legal_address="125009, г. Москва, ул. Тверская, д. 1",
        ),
    )
    now = clock.now()
    starts = now - timedelta(days=30)
    Subscription.objects.create(
        organization=org, tariff=tariff, starts_at=starts,
        ends_at=period_end(starts, 12, org.tz), created_at=now,
        **{**tariff.terms(), "export_limit": limit},
    )
    return org


def _load(base_url: str, make_request, requests: int = REQUESTS_PER_CLIENT) -> dict:
    """CLIENTS threads, each `requests` requests on one keep-alive connection."""
    barrier = threading.Barrier(CLIENTS + 1)
    statuses: list[int] = []
    latencies: list[float] = []
    accepted: dict[int, int] = {}  # export_id -> rows; a replayed answer counts once
    errors: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        mine_status, mine_latency, mine_accepted = [], [], {}
        try:
            with httpx.Client(base_url=base_url, timeout=30) as http:
                http.get("/healthz", headers={"X-Forwarded-Proto": "https"})  # connect before timing
                barrier.wait()
                for i in range(requests):
                    started = time.perf_counter()
                    response = make_request(http, n, i)
                    mine_latency.append(time.perf_counter() - started)
                    mine_status.append(response.status_code)
                    if response.status_code == 201 and "export_id" in response.json():
                        body = response.json()
                        mine_accepted[body["export_id"]] = body["rows"]
        except Exception as exc:  # noqa: BLE001 - every client's failure goes in the report
            errors.append(repr(exc))
        finally:
            with lock:
                statuses.extend(mine_status)
                latencies.extend(mine_latency)
                accepted.update(mine_accepted)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "requests": len(statuses),
        "seconds": seconds,
        "rps": len(statuses) / seconds if seconds else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(statistics.quantiles(latencies, n=20)[18] * 1000, 1) if len(latencies) > 1 else None,
        "status_counts": {code: statuses.count(code) for code in sorted(set(statuses))},
        "server_errors": sum(1 for code in statuses if code >= 500),
        "accepted_rows": sum(accepted.values()),
        "errors": errors,
    }


def run(report: dict) -> None:
    if connection.vendor != "postgresql":
        report["skipped"] = "нужен PostgreSQL: задайте DATABASE_URL=postgres://…"
        return
    org = _organization()
    _, raw_key = issue_key("bench")
    # As behind the TLS proxy of a deployment (production settings redirect plain HTTP).
    headers = {"Authorization": f"Bearer {raw_key}", "X-Forwarded-Proto": "https"}
    stamp = time.monotonic_ns()

    def export(http, n, i):
        # Every tenth request repeats the previous key: a retry that must spend nothing.
        key_index = i - 1 if i % 10 == 9 else i
        rows = (n + key_index) % 3 + 1
        return http.post(
            f"/api/v1/organizations/{org.pk}/exports",
            json={"rows": rows, "field_set": "basic"},
            headers={**headers, "Idempotency-Key": f"bench-{stamp}-{n}-{key_index}"},
        )

    # The second figure: each client spends for an organization of its own (no hot row).
    spread = [_organization(n, limit=10 * LIMIT) for n in range(1, CLIENTS + 1)]

    def export_spread(http, n, i):
        return http.post(
            f"/api/v1/organizations/{spread[n].pk}/exports",
            json={"rows": 1, "field_set": "basic"},
            headers={**headers, "Idempotency-Key": f"spread-{stamp}-{n}-{i}"},
        )

    def bare(http, n, i):
        return http.post(BARE_PATH, json={"rows": 1, "field_set": "basic"}, headers=headers)

    def bare_db(http, n, i):
        return http.post(BARE_DB_PATH, json={"rows": 1, "field_set": "basic"}, headers=headers)

    class BenchUrls:
        """The project's URLs plus the baseline views, mounted only for this run."""

        urlpatterns = [
            *bare_views.urlpatterns(),
            path("", include(settings.ROOT_URLCONF)),
        ]

    db_settings = connections.settings["default"]
    conn_max_age = db_settings.get("CONN_MAX_AGE", 0)
    # A server thread per keep-alive connection keeps its database connection, as a
    # production server with persistent connections would.
    db_settings["CONN_MAX_AGE"] = 300
    try:
        with override_settings(ROOT_URLCONF=BenchUrls, ALLOWED_HOSTS=["127.0.0.1"]), Server() as server:
            _load(server.base_url, bare_db, requests=WARM_UP)  # the server's threads and connections
            before = _load(server.base_url, bare), _load(server.base_url, bare_db)
            api = _load(server.base_url, export)
            spread_load = _load(server.base_url, export_spread)
            baseline = _either_side(before[0], _load(server.base_url, bare))
            db_baseline = _either_side(before[1], _load(server.base_url, bare_db))
    finally:
        db_settings["CONN_MAX_AGE"] = conn_max_age

    gunicorn = _gunicorn_figures(headers, stamp)
    if gunicorn:
        report["gunicorn"] = gunicorn
        assert not gunicorn.get("error"), gunicorn
        assert gunicorn["server_errors"] == 0 and not gunicorn["client_errors"], gunicorn
        assert gunicorn["hot_accepted_vs_used_mismatch"] == 0, gunicorn

    period = QuotaPeriod.objects.get(organization=org)  # the hot row
    overspent = max(0, period.used - period.limit, api["accepted_rows"] - period.limit)
    mismatch = abs(api["accepted_rows"] - period.used)
    report.update(
        clients=CLIENTS,
        requests=api["requests"],
        limit=period.limit,
        used=period.used,
        accepted_rows=api["accepted_rows"],
        overspent_rows=overspent,
        accepted_vs_used_mismatch=mismatch,
        server_errors=(
            api["server_errors"] + spread_load["server_errors"] + baseline["server_errors"]
            + db_baseline["server_errors"]
        ),
        status_counts=api["status_counts"],
        consume_rps=round(api["rps"], 1),
        consume_p50_ms=api["p50_ms"],
        consume_p95_ms=api["p95_ms"],
        bare_django_rps=round(baseline["rps"], 1),
        bare_django_rps_before_after=baseline["runs_rps"],
        bare_django_p50_ms=baseline["p50_ms"],
        ratio_to_bare_django=round(api["rps"] / baseline["rps"], 3) if baseline["rps"] else None,
        spread_consume_rps=round(spread_load["rps"], 1),
        spread_ratio_to_bare_django=(
            round(spread_load["rps"] / baseline["rps"], 3) if baseline["rps"] else None
        ),
        spread_status_counts=spread_load["status_counts"],
        bare_db_rps=round(db_baseline["rps"], 1),
        ratio_to_bare_db=_ratio(api, db_baseline),
        spread_ratio_to_bare_db=_ratio(spread_load, db_baseline),
        client_errors=api["errors"] + spread_load["errors"] + baseline["errors"] + db_baseline["errors"],
    )
    assert not report["client_errors"], report["client_errors"]
    assert api["requests"] == CLIENTS * REQUESTS_PER_CLIENT
    assert overspent == 0 and mismatch == 0, f"overspent {overspent}, mismatch {mismatch}"
    assert report["server_errors"] == 0, f"{report['server_errors']} answers 5xx"
    assert period.used == LIMIT, "demand exceeded the limit, so all of it was spent"
    assert spread_load["status_counts"] == {201: CLIENTS * REQUESTS_PER_CLIENT}


def _either_side(before: dict, after: dict) -> dict:
    """A baseline measured before the loads and again after them, as one: what the shared
    machine's load does over the run then weighs on the baseline as on the loads."""
    return {
        "rps": (before["rps"] + after["rps"]) / 2,
        "runs_rps": [round(before["rps"], 1), round(after["rps"], 1)],
        "p50_ms": after["p50_ms"],
        "server_errors": before["server_errors"] + after["server_errors"],
        "errors": before["errors"] + after["errors"],
    }


def _ratio(load: dict, baseline: dict) -> float | None:
    return round(load["rps"] / baseline["rps"], 3) if baseline["rps"] else None


GUNICORN_WORKERS = 4
GUNICORN_THREADS = 8


def _gunicorn_figures(headers: dict, stamp: int) -> dict | None:
    """The same loads served by gunicorn with production settings (`quota_wsgi.py`),
    the bare view beside the API in the same server: the ratios as deployed. Each client
    spends 1 row on an organization of its own; the hot row is the first one's."""
    import importlib.util
    import os
    import socket
    import subprocess
    import sys

    if importlib.util.find_spec("gunicorn") is None:
        return None
    db = connection.settings_dict
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
                        f"{db['PORT'] or 5432}/{db['NAME']}",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_CONN_MAX_AGE": "300",
        "DJANGO_SETTINGS_MODULE": "podpiska.settings.production",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "quota_wsgi:application",
         "--chdir", str(Path(__file__).parent), "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", str(GUNICORN_WORKERS),
         "--threads", str(GUNICORN_THREADS), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/bench/bare-json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    return {"error": "gunicorn did not start"}
                time.sleep(0.3)
        hot = _organization(CLIENTS + 1, limit=10 * LIMIT)
        spread = [_organization(CLIENTS + 2 + n, limit=10 * LIMIT) for n in range(CLIENTS)]

        def spend(targets):
            def request(http, n, i):
                return http.post(
                    f"/api/v1/organizations/{targets[n % len(targets)].pk}/exports",
                    json={"rows": 1, "field_set": "basic"},
                    headers={**headers, "Idempotency-Key": f"g-{stamp}-{n}-{i}"},
                )
            return request

        def bare_view(path):
            return lambda http, n, i: http.post(path, json={"rows": 1}, headers=headers)

        _load(base_url, bare_view(BARE_DB_PATH), requests=WARM_UP)  # the workers and their connections
        before = _load(base_url, bare_view(BARE_PATH)), _load(base_url, bare_view(BARE_DB_PATH))
        hot_load = _load(base_url, spend([hot]))
        spread_load = _load(base_url, spend(spread))
        bare = _either_side(before[0], _load(base_url, bare_view(BARE_PATH)))
        bare_db = _either_side(before[1], _load(base_url, bare_view(BARE_DB_PATH)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    errors = sum(load["server_errors"] for load in (hot_load, spread_load, bare, bare_db))
    spent = QuotaPeriod.objects.get(organization=hot).used
    return {
        # Every row the hot organization's answers accepted is spent, no more.
        "hot_accepted_vs_used_mismatch": abs(spent - hot_load["accepted_rows"]),
        "workers": f"{GUNICORN_WORKERS} × {GUNICORN_THREADS} threads",
        "hot_rps": round(hot_load["rps"], 1),
        "spread_rps": round(spread_load["rps"], 1),
        "bare_django_rps": round(bare["rps"], 1),
        "bare_django_rps_before_after": bare["runs_rps"],
        "hot_ratio_to_bare_django": round(hot_load["rps"] / bare["rps"], 3),
        "spread_ratio_to_bare_django": round(spread_load["rps"] / bare["rps"], 3),
        "bare_db_rps": round(bare_db["rps"], 1),
        "hot_ratio_to_bare_db": _ratio(hot_load, bare_db),
        "spread_ratio_to_bare_db": _ratio(spread_load, bare_db),
        "server_errors": errors,
        "status_counts": {**hot_load["status_counts"]},
        "client_errors": hot_load["errors"] + spread_load["errors"] + bare["errors"] + bare_db["errors"],
    }
