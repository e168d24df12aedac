from podpiska.audit.models import AuditRecord
from podpiska.subscriptions.actions import start_subscription
from tests.conftest import NOW


def test_state_change_is_audited_with_actor_and_after(tariffs, org, owner, clock):
    sub = start_subscription(
        organization=org, tariff=tariffs["200"], terms=tariffs["200"].terms(), confirmed_at=NOW, actor=owner
    )
    rec = AuditRecord.objects.get(action="subscription.created")
    assert rec.actor == owner and rec.actor_label == owner.email
    assert rec.organization == org and rec.object_id == str(sub.pk)
    assert rec.after["tariff_name"] == "Компас 200" and rec.at == NOW
