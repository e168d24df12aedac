"""Two owners save the same new INN at the same moment: one wins, the other gets the
form's message «Организация с таким ИНН уже зарегистрирована» — never an IntegrityError."""

import pytest
from django.db import connection
from django.test import Client

from podpiska.accounts.actions import INN_TAKEN, RequisitesInvalid, update_requisites
from podpiska.accounts.models import Organization
from podpiska.audit.models import AuditRecord
from podpiska.core.requisites import inn_check_digits
from tests.concurrency import run_threads
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 6


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrency")


def test_same_new_inn_saved_at_once_by_two_owners():
    for round_ in range(ROUNDS):
        owners = [make_user(f"owner{round_}-{i}@example.com") for i in range(2)]
        orgs = [make_org(user=owner) for owner in owners]
        inn = inn_check_digits(f"39{round_:07d}")

        def save(i, orgs=orgs, owners=owners, inn=inn):
            return update_requisites(orgs[i], {**orgs[i].requisites(), "inn": inn}, actor=owners[i])

        results, errors = run_threads(2, save)
        assert len(results) == 1, errors
        assert len(errors) == 1 and isinstance(errors[0], RequisitesInvalid), errors
        assert errors[0].errors == {"inn": INN_TAKEN}
        assert Organization.objects.filter(inn=inn).count() == 1
        changed = AuditRecord.objects.filter(action="organization.requisites_updated", after__inn=inn)
        assert changed.count() == 1


def test_the_settings_page_answers_with_the_message_not_500():
    owners = [make_user(f"page-owner{i}@example.com") for i in range(2)]
    orgs = [make_org(user=owner) for owner in owners]
    inn = inn_check_digits("391234567")

    def post(i):
        client = Client()
        client.force_login(owners[i])
        data = {**orgs[i].requisites(), "inn": inn}
        return client.post("/settings/requisites/", data)

    results, errors = run_threads(2, post)
    assert not errors
    assert sorted(r.status_code for r in results) == [200, 302]
    refused = next(r for r in results if r.status_code == 200)
    assert INN_TAKEN in refused.content.decode()
    assert Organization.objects.filter(inn=inn).count() == 1
