"""The worker's tick: its cost follows what is due, not how many customers there are.

Organizations are written with COPY (setup, not measured), each with an owner and a
paid year of Компас 200; one in ten ends in 36 days, the others in 100–300 days, so
nothing is due at first. Measured in the same run:

- the idle tick (`run_tick`, every step, nothing due; best of 15) at 1 000
  organizations, then at the full N (100 000 unless BENCH_TICK_ORGANIZATIONS says
  otherwise): `idle_n_to_idle_1000` must stay ≤ 2;
- the first tick over the full N (every organization looked at once, nothing due);
- five days later one in ten organizations is due its 30-day reminder: the reminders
  step (claims, letters, `subscription.expiring` webhook rows, next checks) against
  the *write floor* of the rows it wrote (`write_floor.py`; the checks' UPDATE is not
  counted in it, as the import's floor leaves out its orders' UPDATE):
  `due_to_write_floor` ≤ 3. The busy tick and its floor are measured in rounds
  (BENCH_TICK_ROUNDS, 5) from the same state — claims, letters and webhook rows empty
  as in a fresh database, the checks due again — and the figure is the median round's.
"""

import importlib.util
import os
import statistics
import time
from datetime import timedelta
from pathlib import Path

from django.db import connection

from podpiska.accounts.models import Membership, Organization, User
from podpiska.billing.reminders import send_due_reminders
from podpiska.core import bulk, clock
from podpiska.core.requisites import inn_check_digits
from podpiska.demo.data import load_catalog
from podpiska.jobs.tick import run_tick
from podpiska.notifications.models import (
    EmailMessage,
    ReminderSent,
    WebhookDelivery,
    WebhookEndpoint,
)
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import local_midnight

DEFAULT_ORGANIZATIONS = 100_000
SMALL = 1_000
DUE_EVERY = 10  # one organization in ten is due in the measured busy tick
SHIFT = timedelta(days=5)
# The busy tick is measured this many times, from the same state, and so is its floor.
ROUNDS = int(os.environ.get("BENCH_TICK_ROUNDS", 5))
# What the busy tick writes.
WRITTEN = (ReminderSent, EmailMessage, WebhookDelivery)


def _customers(first: int, count: int, tariff, now) -> None:
    """`count` organizations numbered from `first`, each with an owner and a paid year."""
    organizations = bulk.insert(
        Organization,
        [
            {
                "name": f"Общество с ограниченной ответственностью «Клиент {i}»",
                "short_name": f"ООО «Клиент {i}»",
                "inn": inn_check_digits(f"77{i:08d}"),
                "kpp": "770101001",
                "legal_address": "101000, г. Москва, ул. Мясницкая, д. 1",
                "timezone": "Europe/Moscow",
                "created_at": now,
            }
            for i in range(first, first + count)
        ],
    )
    users = bulk.insert(
        User,
        [
            {"email": f"owner{i}@client.example", "password": "!", "date_joined": now}
            for i in range(first, first + count)
        ],
    )
    bulk.insert(
        Membership,
        [
            {"user_id": user, "organization_id": org, "role": Membership.Role.OWNER}
            for user, org in zip(users, organizations, strict=True)
        ],
    )
    today = now.astimezone(tariff_zone()).date()
    rows = []
    for i, org in zip(range(first, first + count), organizations, strict=True):
        days = 36 if i % DUE_EVERY == 0 else 100 + i % 200
        ends_at = local_midnight(today + timedelta(days=days), tariff_zone())
        rows.append(
            {
                "organization_id": org,
                "tariff_id": tariff.pk,
                "starts_at": ends_at - timedelta(days=365),
                "ends_at": ends_at,
                "created_at": now,
                **tariff.terms(),
            }
        )
    bulk.insert(Subscription, rows)


def tariff_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Moscow")


def _best_of(runs: int, action) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def _load_write_floor():
    spec = importlib.util.spec_from_file_location(
        "write_floor", Path(__file__).with_name("write_floor.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_floor


def run(report: dict) -> None:
    total = int(os.environ.get("BENCH_TICK_ORGANIZATIONS", DEFAULT_ORGANIZATIONS))
    report["organizations"] = total
    report["database"] = connection.vendor
    now = clock.now()
    tariff = load_catalog()["200"]
    # The outbox and the claims start empty, whatever benches ran before in this database
    # (a pending letter of theirs would be sent by the first tick and counted).
    _empty_outbox()
    WebhookEndpoint.objects.all().delete()
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=now)

    started = time.perf_counter()
    _customers(0, SMALL, tariff, now)
    run_tick(now)  # the first look at every organization
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    report["setup_seconds"] = round(time.perf_counter() - started, 1)
    idle_small = _best_of(15, lambda: run_tick(now))

    started = time.perf_counter()
    _customers(SMALL, total - SMALL, tariff, now)
    report["setup_seconds"] += round(time.perf_counter() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    started = time.perf_counter()
    run_tick(now)
    report["first_tick_seconds"] = round(time.perf_counter() - started, 2)
    # The first tick rewrote every check row; autovacuum cleans and analyzes such a
    # table soon after (until then the planner believes every check is still due, and
    # the index's range of due checks is full of dead entries).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) notifications_remindercheck")
    idle_full = _best_of(15, lambda: run_tick(now))
    idle_reminders = _best_of(15, lambda: send_due_reminders(now))
    if ReminderSent.objects.exists() or EmailMessage.objects.exists():
        raise AssertionError("something was due in the idle ticks")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_organization")
        report["organizations_in_database"] = cursor.fetchone()[0]

    report["idle_tick_1000_ms"] = round(idle_small * 1000, 2)
    report["idle_tick_n_ms"] = round(idle_full * 1000, 2)
    report["idle_reminders_step_n_ms"] = round(idle_reminders * 1000, 2)
    report["idle_n_to_idle_1000"] = round(idle_full / idle_small, 2)
    report["idle_target"] = 2

    later = now + SHIFT
    with connection.cursor() as cursor:
        # What the busy tick changes besides its new rows: the checks it looks at.
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_due_checks AS SELECT * FROM notifications_remindercheck "
            "WHERE due_at <= %s",
            [later],
        )
    expected = len(range(0, total, DUE_EVERY))
    dues, floors = [], []
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        sent = send_due_reminders(later)
        dues.append(time.perf_counter() - started)
        if sent != expected or EmailMessage.objects.count() != expected:
            raise AssertionError(f"sent {sent} reminders, expected {expected}")
        if round_ == 0:
            report["due_reminders"] = sent
            again = _best_of(1, lambda: send_due_reminders(later))
            report["idle_after_due_ms"] = round(again * 1000, 2)
        written = _load_write_floor()(WRITTEN)
        floors.append(sum(seconds for _, _, seconds in written.values()))
        report["rows_written"] = {table: rows for table, (rows, _, _) in written.items()}
        _undo_busy_tick()

    # Each round compares the tick with its floor measured right after it, under the
    # same load of a shared machine; the figure is the median round.
    ratios = [due / floor for due, floor in zip(dues, floors, strict=True)]
    report["due_tick_seconds_by_round"] = [round(due, 3) for due in dues]
    report["write_floor_seconds_by_round"] = [round(floor, 3) for floor in floors]
    report["due_to_write_floor_by_round"] = [round(ratio, 2) for ratio in ratios]
    report["due_to_write_floor"] = round(statistics.median(ratios), 2)
    report["due_target"] = 3


def _empty_outbox() -> None:
    """The claims, letters and webhook rows as a fresh database has them: empty, with
    no dead rows left by earlier benches or rounds."""
    tables = ", ".join(model._meta.db_table for model in WRITTEN)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")


def _undo_busy_tick() -> None:
    """Back to the moment before the busy tick: its rows gone, its checks due again, its
    send tasks dropped, the check table vacuumed as before."""
    from django_tasks_db.models import DBTaskResult

    _empty_outbox()
    DBTaskResult.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_remindercheck c SET due_at = b.due_at, version = b.version "
            "FROM bench_due_checks b WHERE c.organization_id = b.organization_id"
        )
        cursor.execute("VACUUM (ANALYZE) notifications_remindercheck")
