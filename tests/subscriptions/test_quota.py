"""The export limit: periods, the free tariff's 50-then-20, add-ons, consume and refund."""

from datetime import datetime, timedelta

import pytest

from podpiska.api.entitlements import entitlements
from podpiska.audit.models import AuditRecord
from podpiska.catalog.models import LimitReset
from podpiska.notifications.models import WebhookDelivery, WebhookEndpoint
from podpiska.subscriptions import quota
from podpiska.subscriptions.models import ExportRecord, QuotaPeriod
from tests import factories
from tests.conftest import MSK, NOW

pytestmark = pytest.mark.django_db


def spend(org, rows, key, at, field_set="basic"):
    return quota.consume(org, rows=rows, field_set=field_set, idempotency_key=key, actor_label="test", at=at)


def test_free_tariff_50_until_the_first_export_then_20_a_month(tariffs, org, clock):
    assert entitlements(org, clock.now())["limit"] == 50
    # A month with no export keeps the first-export allowance.
    december = datetime(2026, 12, 3, 10, 0, tzinfo=MSK)
    assert entitlements(org, december)["limit"] == 50
    assert spend(org, 30, "a", december).outcome == "spent"
    result = spend(org, 21, "b", december)
    assert result.outcome == "over_limit" and result.body["remaining"] == 20
    assert spend(org, 20, "c", december).body["remaining"] == 0
    # After the first export: 20 a month, a fresh period each calendar month.
    january = datetime(2027, 1, 1, 0, 0, tzinfo=MSK)
    state = entitlements(org, january)
    assert (state["limit"], state["used"]) == (20, 0)
    assert state["period_starts_at"] == january
    assert state["period_ends_at"] == datetime(2027, 2, 1, tzinfo=MSK)
    assert spend(org, 20, "d", january).outcome == "spent"
    assert spend(org, 1, "e", january + timedelta(days=30)).outcome == "over_limit"
    assert spend(org, 1, "f", datetime(2027, 2, 1, tzinfo=MSK)).outcome == "spent"
    assert entitlements(org, datetime(2027, 2, 10, tzinfo=MSK))["limit"] == 20


def test_free_month_after_a_paid_subscription_starts_where_it_ended(tariffs, org, clock):
    ended = datetime(2026, 11, 10, tzinfo=MSK)
    factories.make_subscription(org, tariffs["100"], ended - timedelta(days=365), used=100, ends_at=ended)
    state = entitlements(org, clock.now())
    assert state["tariff"]["code"] == "free" and state["period_starts_at"] == ended
    assert state["limit"] == 20  # it has exported before


def test_a_paid_subscription_starting_mid_month_cuts_the_free_period(tariffs, org, clock):
    spend(org, 5, "a", clock.now())
    starts = NOW + timedelta(days=1)
    factories.make_subscription(org, tariffs["200"], starts)
    assert quota.current_period(org, clock.now()).ends_at == starts
    state = entitlements(org, starts)
    assert state["paid"] and (state["limit"], state["used"]) == (10_000, 0)


def test_term_limit_is_shared_over_the_whole_term(tariffs, org, clock):
    sub = factories.make_subscription(org, tariffs["100"], NOW - timedelta(days=100))
    assert spend(org, 2_000, "a", clock.now()).outcome == "spent"
    later = NOW + timedelta(days=200)
    assert spend(org, 1_001, "b", later).outcome == "over_limit"
    assert quota.used_during(sub) == 2_000


def test_add_on_raises_the_current_limit_and_tells_the_host_product(tariffs, org, clock, owner):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=NOW)
    sub = factories.make_subscription(org, tariffs["max"], NOW - timedelta(days=60), used=149_990)
    assert spend(org, 11, "a", clock.now()).outcome == "over_limit"
    quota.add_extra_exports(sub, 5_000, actor=owner, at=clock.now())
    state = entitlements(org, clock.now())
    assert (state["limit"], state["remaining"]) == (155_000, 5_010)
    assert spend(org, 11, "b", clock.now()).outcome == "spent"
    delivery = WebhookDelivery.objects.get(event="limit.changed")
    assert delivery.payload["data"] == {
        "subscription_id": sub.pk, "added": 5_000, "limit": 155_000, "used": 149_990, "remaining": 5_010,
    }
    assert AuditRecord.objects.filter(action="subscription.extra_exports_added").count() == 1


def test_add_on_before_the_first_export_is_counted_once(tariffs, org, clock):
    sub = factories.make_subscription(org, tariffs["max"], NOW - timedelta(days=60))
    assert not QuotaPeriod.objects.exists()
    quota.add_extra_exports(sub, 1_000, at=clock.now())
    assert quota.current_period(org, clock.now()).limit == 151_000


def test_add_on_of_a_monthly_tariff_raises_only_its_month(tariffs, org, clock):
    sub = factories.make_subscription(
        org, tariffs["200"], NOW - timedelta(days=60), limit_reset=LimitReset.MONTH, export_limit=1_000
    )
    quota.add_extra_exports(sub, 300, at=clock.now())
    assert entitlements(org, clock.now())["limit"] == 1_300
    assert entitlements(org, datetime(2026, 12, 5, tzinfo=MSK))["limit"] == 1_000


def test_field_set_and_replay(tariffs, org, clock):
    factories.make_subscription(org, tariffs["400"], NOW - timedelta(days=1))
    assert spend(org, 5, "ext", clock.now(), field_set="extended").outcome == "spent"
    assert spend(org, 5, "bas", clock.now(), field_set="basic").outcome == "spent"  # extended covers basic
    again = spend(org, 5, "ext", clock.now(), field_set="extended")
    assert again.replayed and again.body["used"] == 5
    with pytest.raises(quota.QuotaRequestError) as refused:
        spend(org, 6, "ext", clock.now(), field_set="extended")
    assert refused.value.code == "idempotency_key_reused"
    assert QuotaPeriod.objects.get().used == 10


@pytest.mark.parametrize("rows", [0, -1, True, 1.0, "3", quota.MAX_ROWS + 1])
def test_bad_rows_are_refused_before_anything(tariffs, org, clock, rows):
    with pytest.raises(quota.QuotaRequestError) as refused:
        spend(org, rows, "x", clock.now())
    assert refused.value.code == "invalid_request" and "rows" in refused.value.extra["errors"]
    assert not ExportRecord.objects.exists() and not QuotaPeriod.objects.exists()


def test_refund_returns_rows_to_the_period_they_came_from(tariffs, org, clock):
    spend(org, 10, "nov", clock.now())
    export = ExportRecord.objects.get()
    december = datetime(2026, 12, 2, tzinfo=MSK)
    spend(org, 5, "dec", december)
    result = quota.refund(org, export_id=export.pk, rows=4, actor_label="test", at=december)
    assert result.body == {"export_id": export.pk, "refunded_rows": 4, "used": 6, "remaining": 44}
    assert entitlements(org, december)["used"] == 5
    assert AuditRecord.objects.filter(action="export.refunded", actor_label="test").exists()
    with pytest.raises(quota.QuotaRequestError):
        quota.refund(org, export_id=export.pk, rows=7, actor_label="test", at=december)


def test_a_replay_is_the_same_domain_result_rebuilt_from_the_stored_outcome(tariffs, org, clock):
    factories.make_subscription(org, tariffs["200"], NOW - timedelta(days=1))
    over = spend(org, 10**6, "big", clock.now())
    missing = spend(org, 5, "ext", clock.now(), field_set="extended")
    assert isinstance(over, quota.OverLimit) and over.reason == "limit_exceeded"
    assert isinstance(missing, quota.FieldSetMissing) and missing.available == "basic"
    assert ExportRecord.objects.get(idempotency_key="big").outcome == "over_limit"
    for first, key, rows, field_set in ((over, "big", 10**6, "basic"), (missing, "ext", 5, "extended")):
        again = spend(org, rows, key, clock.now(), field_set=field_set)
        assert type(again) is type(first) and again.replayed and not first.replayed
        assert again.body == first.body and again.export.pk == first.export.pk
    spent = spend(org, 3, "ok", clock.now())
    assert isinstance(spent, quota.Spent) and (spent.used, spent.remaining) == (3, spent.limit - 3)
    assert spend(org, 3, "ok", clock.now()) == quota.Spent(
        export=spent.export, limit=spent.limit, used=3, replayed=True
    )
    assert QuotaPeriod.objects.get().used == 3
