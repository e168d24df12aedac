import pytest
from django.db import connection

from podpiska.audit.models import AuditRecord
from tests.conftest import NOW
from tests.factories import start_subscription


def test_state_change_is_audited_with_actor_and_after(tariffs, org, owner, clock):
    sub = start_subscription(
        organization=org, tariff=tariffs["200"], terms=tariffs["200"].terms(), confirmed_at=NOW, actor=owner
    )
    rec = AuditRecord.objects.get(action="subscription.created")
    assert rec.actor == owner and rec.actor_label == owner.email
    assert rec.organization == org and rec.object_id == str(sub.pk)
    assert rec.after["tariff_name"] == "Компас 200" and rec.at == NOW


def test_history_outlives_the_user_who_made_it(tariffs, org, owner, clock):
    from tests.factories import make_user

    staff = make_user("leaving@podpiska.local", is_staff=True)
    start_subscription(
        organization=org, tariff=tariffs["200"], terms=tariffs["200"].terms(), confirmed_at=NOW, actor=staff
    )
    staff_id = staff.pk
    staff.delete()
    rec = AuditRecord.objects.get(action="subscription.created")
    # Not rewritten: the id and the label of who did it stay.
    assert (rec.actor_id, rec.actor_label) == (staff_id, "leaving@podpiska.local")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_an_organizations_records_are_read_newest_first_by_an_index(tariffs, org, owner, clock):
    start_subscription(
        organization=org, tariff=tariffs["200"], terms=tariffs["200"].terms(), confirmed_at=NOW, actor=owner
    )
    query = AuditRecord.objects.filter(organization=org).order_by("-at", "-id")[:100]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "audit_organization_at" in plan
