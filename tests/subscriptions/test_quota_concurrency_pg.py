"""32 threads spending one organization's limit at once never overspend (PostgreSQL)."""

import itertools
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from podpiska.subscriptions import quota
from podpiska.subscriptions.models import ExportRecord, QuotaPeriod
from tests.conftest import NOW
from tests.factories import catalog, make_org, make_subscription

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 32
LIMIT = 600


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")


def _run(target):
    barrier = threading.Barrier(THREADS)
    results, errors = [None] * THREADS, []

    def worker(n):
        try:
            barrier.wait()
            results[n] = target(n)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.fixture
def org(clock):
    _needs_postgres()
    org = make_org()
    # No period row yet: the threads also race to create it.
    make_subscription(org, catalog()["200"], NOW - timedelta(days=30), export_limit=LIMIT)
    return org


def test_demand_over_the_limit_spends_exactly_the_limit(org):
    keys = itertools.count()
    lock = threading.Lock()

    def next_key():
        with lock:
            return f"k{next(keys)}"

    def spend(n):
        accepted, rows = 0, n % 4 + 1
        while True:
            result = quota.consume(org, rows=rows, field_set="basic", idempotency_key=next_key(),
                                   actor_label=f"thread {n}", at=NOW)
            if result.outcome == "spent":
                accepted += rows
                assert result.body["remaining"] >= 0
                continue
            assert result.outcome == "over_limit"
            if result.body["remaining"] == 0:
                return accepted
            rows = 1  # take the tail row by row until nothing is left

    accepted = _run(spend)

    assert sum(accepted) == LIMIT
    period = QuotaPeriod.objects.get(organization=org)
    assert (period.used, period.limit) == (LIMIT, LIMIT)
    records = ExportRecord.objects.filter(organization=org, accepted=True)
    assert sum(records.values_list("rows", flat=True)) == LIMIT
    assert QuotaPeriod.objects.filter(organization=org).count() == 1


def test_one_key_repeated_by_32_threads_spends_once(org):
    results = _run(lambda n: quota.consume(
        org, rows=10, field_set="basic", idempotency_key="same", actor_label=f"thread {n}", at=NOW
    ))

    assert {r.outcome for r in results} == {"spent"}
    assert len({r.body["export_id"] for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert ExportRecord.objects.filter(organization=org).count() == 1
    assert QuotaPeriod.objects.get(organization=org).used == 10


def test_repeated_keys_mixed_with_new_ones_spend_once_each(org):
    # 8 keys, each sent by 4 threads, 25 rows each: 200 rows spent, never more.
    results = _run(lambda n: quota.consume(
        org, rows=25, field_set="basic", idempotency_key=f"key-{n % 8}", actor_label="t", at=NOW
    ))

    assert {r.outcome for r in results} == {"spent"}
    assert len({r.body["export_id"] for r in results}) == 8
    assert QuotaPeriod.objects.get(organization=org).used == 200


def test_concurrent_refunds_never_give_back_more_than_was_spent(org):
    export_id = quota.consume(org, rows=20, field_set="basic", idempotency_key="x",
                              actor_label="t", at=NOW).body["export_id"]

    def refund(n):
        try:
            quota.refund(org, export_id=export_id, rows=1, actor_label="t", at=NOW)
            return 1
        except quota.QuotaRequestError:
            return 0

    assert sum(_run(refund)) == 20
    assert QuotaPeriod.objects.get(organization=org).used == 0
    assert ExportRecord.objects.get(pk=export_id).refunded_rows == 20


def test_one_refund_key_repeated_by_32_threads_gives_back_once(org):
    from podpiska.api.refunds import refund_once

    export_id = quota.consume(org, rows=100, field_set="basic", idempotency_key="x",
                              actor_label="t", at=NOW).body["export_id"]
    bodies = _run(lambda n: refund_once(org, export_id=export_id, rows=30, idempotency_key="r",
                                        actor_label="t", at=NOW))

    assert all(body == bodies[0] for body in bodies)
    assert ExportRecord.objects.get(pk=export_id).refunded_rows == 30
    assert QuotaPeriod.objects.get(organization=org).used == 70
