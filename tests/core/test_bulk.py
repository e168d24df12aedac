"""Bulk writes and reads: what a bank statement of a year goes through."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, transaction

from podpiska.billing.models import Payment, PaymentSource, PaymentState
from podpiska.core import bulk
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

AWKWARD = "таб\tперевод\nвозврат\rслеш\\N «кавычки» 'апостроф' \"двойные\" ₽ \\\\ конец"


def _row(key: str, **values) -> dict:
    return {
        "source": PaymentSource.STATEMENT,
        "state": PaymentState.QUEUED,
        "amount": 134_400_00,
        "received_at": datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=3))),
        "dedup_key": key,
        "created_at": datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
        **values,
    }


@pytest.mark.parametrize("padding", [0, bulk.FEW], ids=["few rows: INSERT", "many: COPY"])
def test_insert_writes_every_value_as_given_and_returns_the_ids_in_order(padding):
    org = factories.make_org()
    rows = [
        _row("a", purpose=AWKWARD, payer_name=AWKWARD, organization_id=org.pk,
             doc_date=date(2026, 11, 26), suggestions=[3, 1, 2]),
        _row("b", suggestions=[], note="", resolved_at=None),
    ] + [_row(f"pad{i}") for i in range(padding)]
    ids = bulk.insert(Payment, rows)
    assert len(ids) == 2 + padding and ids == sorted(ids)
    first, second = (Payment.objects.get(pk=pk) for pk in ids[:2])
    assert (first.purpose, first.payer_name) == (AWKWARD, AWKWARD)
    assert first.received_at == rows[0]["received_at"]
    assert (first.doc_date, first.suggestions, first.organization_id) == (
        date(2026, 11, 26), [3, 1, 2], org.pk,
    )
    assert (second.dedup_key, second.doc_date, second.resolved_at, second.purpose) == ("b", None, None, "")
    # Defaults fill what a row leaves out.
    assert (second.provider, second.queue_reason, second.order_id) == ("", "", None)


def test_insert_refuses_a_duplicate_key_whole():
    bulk.insert(Payment, [_row("a")])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert(Payment, [_row("b"), _row("a")])
    assert list(Payment.objects.values_list("dedup_key", flat=True)) == ["a"]


def test_insert_of_nothing_writes_nothing():
    assert bulk.insert(Payment, []) == []
    assert not Payment.objects.exists()


def test_any_of_finds_the_rows_of_a_long_list_given_as_one_parameter():
    ids = bulk.insert(Payment, [_row(f"k{i}") for i in range(50)])
    wanted = [*ids[::7], 10**9]  # a long list may name rows that do not exist
    found = Payment.objects.filter(pk__any_of=wanted).values_list("pk", flat=True)
    assert sorted(found) == ids[::7]
    by_key = Payment.objects.filter(dedup_key__any_of=["k3", "k4", "nope"])
    assert sorted(by_key.values_list("dedup_key", flat=True)) == ["k3", "k4"]
    assert not Payment.objects.filter(pk__any_of=[]).exists()
    # Far more values than SQLite allows parameters in one query.
    assert Payment.objects.filter(pk__any_of=list(range(100_000))).count() == 50


def test_any_of_finds_awkward_strings_exactly():
    """On PostgreSQL the list travels as an array's text: quotes, backslashes, commas,
    braces, spaces and NULL-looking values must come back as they were."""
    keys = [AWKWARD, "a,b", "{x}", " padded ", "", "NULL", 'кавычка"', "слеш\\", "1"]
    bulk.insert(Payment, [_row(key) for key in keys])
    found = Payment.objects.filter(dedup_key__any_of=[*keys, "ab", "x"])
    assert sorted(found.values_list("dedup_key", flat=True)) == sorted(keys)
    for key in keys:
        assert Payment.objects.filter(dedup_key__any_of=[key]).count() == 1

