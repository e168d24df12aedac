"""`audited_update` and `audited_create`: the one way a single object changes with its record."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from podpiska.accounts.models import Organization
from podpiska.api.keys import issue_key
from podpiska.audit.changes import ALL, audited_create, audited_update
from podpiska.audit.log import snapshot
from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import place_order
from podpiska.billing.models import OnlinePayment
from podpiska.support.models import SupportRequest
from tests.conftest import NOW
from tests.factories import make_org, make_subscription


def test_a_change_is_saved_and_recorded_with_the_fields_it_changed(org, owner, clock):
    old_name = org.name
    assert audited_update(org, "test.renamed", owner, name="ООО «Новое»", kpp=org.kpp) is True

    stored = Organization.objects.get(pk=org.pk)
    assert stored.name == "ООО «Новое»"
    record = AuditRecord.objects.get(action="test.renamed")
    # The unchanged KPP is not in the record: only what changed, before and after.
    assert record.before == {"name": old_name} and record.after == {"name": "ООО «Новое»"}
    assert (record.actor, record.organization_id, record.object_id, record.at) == (
        owner, org.pk, str(org.pk), NOW)


def test_nothing_changes_nothing_is_saved_nor_recorded(org, owner, clock, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert audited_update(org, "test.renamed", owner, name=org.name, kpp=org.kpp) is False
    assert not AuditRecord.objects.exists()


def test_only_the_changed_columns_are_written(org, owner, clock):
    org.short_name = "не сохранять"  # changed in memory by someone else: not this change's
    with CaptureQueriesContext(connection) as queries:
        audited_update(org, "test.renamed", owner, name="ООО «Новое»", kpp=org.kpp)
    [update] = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert '"name"' in update and '"kpp"' not in update and '"short_name"' not in update
    assert Organization.objects.get(pk=org.pk).short_name != "не сохранять"


def test_the_record_shows_more_when_asked(org, owner, clock):
    audited_update(org, "test.listed", owner, recorded=["name", "kpp"], name="ООО «Раз»")
    listed = AuditRecord.objects.get(action="test.listed")
    assert listed.before.keys() == listed.after.keys() == {"name", "kpp"}
    assert listed.after["kpp"] == org.kpp

    before = snapshot(org)
    audited_update(org, "test.whole", owner, recorded=ALL, name="ООО «Два»")
    whole = AuditRecord.objects.get(action="test.whole")
    assert whole.before == {**before, "name": "ООО «Раз»"}
    assert whole.after == {**before, "name": "ООО «Два»"}


def test_many_to_many_by_the_related_ids(org, owner, clock):
    other = make_org()
    key, _raw = issue_key("Ключ", [org], actor=owner)
    assert audited_update(key, "test.scope", owner, organizations=[other, org]) is True
    assert sorted(key.organizations.values_list("pk", flat=True)) == sorted([org.pk, other.pk])
    record = AuditRecord.objects.get(action="test.scope")
    assert record.before == {"organizations": [org.pk]}
    assert record.after == {"organizations": sorted([org.pk, other.pk])}
    # The same set in another order is no change.
    assert audited_update(key, "test.scope", owner, organizations=[other.pk, org.pk]) is False
    assert AuditRecord.objects.filter(action="test.scope").count() == 1


def test_updated_at_follows_a_change_and_only_a_change(org, owner, clock, tariffs):
    from datetime import timedelta

    make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    order = place_order(organization=org, user=owner, kind="renew", payment_method="online",
                        idempotency_key="k-1", tariff=tariffs["200"])
    attempt = OnlinePayment.objects.create(order=order, provider="sandbox", idempotence_key="i-1",
                                           amount=order.price, created_at=NOW, updated_at=NOW)
    clock.shift(timedelta(minutes=5))
    assert audited_update(attempt, "test.attempt", None, status=attempt.status) is False
    assert OnlinePayment.objects.get(pk=attempt.pk).updated_at == NOW
    assert audited_update(attempt, "test.attempt", None, status="canceled") is True
    stored = OnlinePayment.objects.get(pk=attempt.pk)
    assert (stored.status, stored.updated_at) == ("canceled", NOW + timedelta(minutes=5))
    # Filed under the order's organization, like every record of the attempt.
    assert AuditRecord.objects.get(action="test.attempt").organization_id == org.pk


def test_a_creation_is_recorded_with_the_whole_row_or_the_fields_asked(org, owner, clock):
    request = audited_create(SupportRequest, "test.filed", owner, organization=org, user=owner,
                             subject="Счёт", message="Где счёт?", created_at=NOW)
    record = AuditRecord.objects.get(action="test.filed")
    assert record.before is None and record.after == snapshot(request)
    assert record.organization_id == org.pk and record.object_id == str(request.pk)

    audited_create(SupportRequest, "test.filed_short", owner, recorded=["subject"],
                   organization=org, user=owner, subject="Акт", message="Где акт?", created_at=NOW)
    assert AuditRecord.objects.get(action="test.filed_short").after == {"subject": "Акт"}
