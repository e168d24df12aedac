"""Property-based run over /api/v1/openapi.json: no input makes the API answer 5xx,
and every answer matches the schema. Bounded to ~20 examples per operation."""

import uuid
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podpiska.api.keys import issue_key
from podpiska.wsgi import application
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(db, clock):
    """A real organization (so generated requests reach the quota) and a valid key."""
    tariffs = factories.catalog()
    org = factories.make_org()
    factories.make_subscription(org, tariffs["200"], NOW - timedelta(days=30))
    _, raw = issue_key("schemathesis")
    return org, raw


@pytest.fixture
def keep_test_connection():
    """Django's test client does this: without it every request made through the WSGI
    app would close the test's database connection when it finishes (PostgreSQL)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_api_never_fails_and_matches_its_schema(target, keep_test_connection):
    org, raw = target
    # Loaded inside the test: the schema view runs middleware that reads the database.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 4

    for operation in operations:

        @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), aim=st.booleans())
        def run(case, aim):
            # Half the cases aim at a real organization, the rest keep generated ids.
            if aim and case.path_parameters:
                if "organization_id" in case.path_parameters:
                    case.path_parameters["organization_id"] = org.pk
                if "inn" in case.path_parameters:
                    case.path_parameters["inn"] = org.inn
            # A generated key reused with another body is rightly refused (422
            # idempotency_key_reused, tested in test_api.py); keep keys unique here.
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = f"{case.headers['Idempotency-Key'][:160]}-{uuid.uuid4().hex}"
            case.call_and_validate(headers={"Authorization": f"Bearer {raw}"})

        run()
