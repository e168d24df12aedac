import hashlib

import pytest

from podpiska.api.keys import authenticate, authenticate_spending, issue_key, key_allows, revoke_key
from podpiska.api.models import ApiKey
from podpiska.audit.models import AuditRecord
from podpiska.catalog.models import LimitReset
from podpiska.subscriptions import quota
from podpiska.subscriptions.models import QuotaPeriod
from tests import factories
from tests.conftest import NOW


@pytest.mark.django_db
def test_issue_stores_only_the_hash_and_shows_the_key_once(clock, org):
    key, raw = issue_key("Справочник", [org])
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw.startswith(stored.prefix) and len(stored.prefix) == 12
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(stored.__dict__.values())
    assert list(stored.organizations.all()) == [org]
    assert authenticate(raw) == stored
    assert AuditRecord.objects.filter(action="api_key.issued", object_id=str(key.pk)).exists()


@pytest.mark.django_db
def test_unknown_and_revoked_keys_do_not_authenticate(clock, owner):
    key, raw = issue_key("Сервис")
    assert authenticate(None) is None
    assert authenticate("ppk_" + "x" * 43) is None
    assert authenticate(raw[:-1]) is None
    revoke_key(key, actor=owner)
    revoke_key(key, actor=owner)  # repeat changes nothing
    assert authenticate(raw) is None
    assert AuditRecord.objects.filter(action="api_key.revoked").count() == 1


@pytest.mark.django_db
def test_scope(clock, org):
    other = factories.make_org()
    everyone, _ = issue_key("Все")
    scoped, _ = issue_key("Одна", [org])
    assert key_allows(everyone, org) and key_allows(everyone, other)
    assert key_allows(scoped, org) and not key_allows(scoped, other)


@pytest.mark.django_db
def test_the_spending_read_gives_the_key_with_the_term_period_in_force(clock, owner, tariffs, org):
    key, raw = issue_key("Сервис")
    # The free tariff: no term period (the route works the period out itself).
    assert authenticate_spending(raw, org.pk, NOW) == (key, None)
    sub = factories.make_subscription(org, tariffs["200"], NOW.replace(month=6, day=1, hour=0))
    # A paid term whose period row the first export has not created yet.
    assert authenticate_spending(raw, org.pk, NOW) == (key, None)
    period = quota.current_period(org, NOW)
    found_key, found = authenticate_spending(raw, org.pk, NOW)
    assert found_key == key and found_key.scope_size == 0
    assert found == period == quota.term_period_in_force(org.pk, NOW)
    assert (found.limit, found.used, found.field_set) == (period.limit, 0, sub.field_set)
    assert (found.starts_at, found.ends_at) == (sub.starts_at, sub.ends_at)
    assert found.organization.pk == org.pk and found.organization.inn == org.inn
    # Outside the term, for another organization, or counted by month: none.
    assert authenticate_spending(raw, org.pk, sub.ends_at) == (key, None)
    assert authenticate_spending(raw, factories.make_org().pk, NOW) == (key, None)
    QuotaPeriod.objects.filter(pk=period.pk).update(subscription=None)
    assert authenticate_spending(raw, org.pk, NOW) == (key, None)
    QuotaPeriod.objects.filter(pk=period.pk).update(subscription=sub)
    type(sub).objects.filter(pk=sub.pk).update(limit_reset=LimitReset.MONTH)
    assert authenticate_spending(raw, org.pk, NOW) == (key, None)
    # A wrong or revoked key reads nothing.
    assert authenticate_spending(raw[:-1], org.pk, NOW) == (None, None)
    assert authenticate_spending(None, org.pk, NOW) == (None, None)
    revoke_key(key, actor=owner)
    assert authenticate_spending(raw, org.pk, NOW) == (None, None)
