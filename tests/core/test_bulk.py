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



def test_insert_or_nothing_writes_unless_the_key_is_taken_or_the_query_finds_a_row():
    assert bulk.insert_or_nothing(Payment, _row("a"), conflict=["dedup_key"]) is not None
    assert bulk.insert_or_nothing(Payment, _row("a"), conflict=["dedup_key"]) is None
    # The same bank document under another key (found by the query) is not written either.
    same = Payment.objects.filter(amount=134_400_00)
    assert bulk.insert_or_nothing(Payment, _row("b"), conflict=["dedup_key"], unless=same) is None
    # Values of every kind go through the SELECT form as through VALUES (NULLs included).
    other = Payment.objects.filter(amount=1)
    pk = bulk.insert_or_nothing(
        Payment, _row("c", doc_date=date(2026, 11, 26), suggestions=[1], purpose=AWKWARD,
                      resolved_at=None, organization_id=None),
        conflict=["dedup_key"], unless=other,
    )
    stored = Payment.objects.get(pk=pk)
    assert (stored.dedup_key, stored.doc_date, stored.suggestions, stored.purpose) == (
        "c", date(2026, 11, 26), [1], AWKWARD
    )
    assert sorted(Payment.objects.values_list("dedup_key", flat=True)) == ["a", "c"]


def test_insert_together_writes_each_table_and_returns_each_ones_ids():
    from podpiska.audit.models import AuditRecord
    from podpiska.notifications.models import EmailMessage

    at = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    audit = [
        {"at": at, "action": "payment.recorded", "object_type": "billing.payment",
         "object_id": str(i), "after": {"n": i, "text": AWKWARD}}
        for i in range(3)
    ]
    letters = [{"to": ["a@example.com"], "template": "order_paid", "context": {"order_id": 1},
                "created_at": at, "next_attempt_at": at}]
    written = bulk.insert_together([(AuditRecord, audit), (EmailMessage, letters), (Payment, [])])
    assert [len(ids) for ids in written] == [3, 1, 0]
    assert written[0] == sorted(AuditRecord.objects.values_list("pk", flat=True))
    assert [r.after for r in AuditRecord.objects.order_by("pk")] == [row["after"] for row in audit]
    letter = EmailMessage.objects.get(pk=written[1][0])
    assert (letter.to, letter.context, letter.status) == (["a@example.com"], {"order_id": 1}, "pending")
