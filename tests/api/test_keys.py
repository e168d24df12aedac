import hashlib

import pytest

from podpiska.api.keys import authenticate, issue_key, key_allows, revoke_key
from podpiska.api.models import ApiKey
from podpiska.audit.models import AuditRecord
from tests import factories


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
