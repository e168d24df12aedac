"""The migration that replaces ExportRecord's stored HTTP status by its outcome maps
201/409/403 to spent/over_limit/field_set_missing, and back when reversed."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import NOW

BEFORE_APP = ("subscriptions", "0004_field_labels")
AFTER_APP = ("subscriptions", "0005_h13b_export_outcome")


def _targets(executor, subscriptions):
    others = [leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] != "subscriptions"]
    return [*others, subscriptions]


@pytest.mark.django_db(transaction=True)
def test_stored_statuses_become_outcomes_and_back():
    executor = MigrationExecutor(connection)
    before = _targets(executor, BEFORE_APP)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Organization = apps.get_model("accounts", "Organization")
    ExportRecord = apps.get_model("subscriptions", "ExportRecord")
    org = Organization.objects.create(name="ООО «Старое»", short_name="Старое", inn="7707083893",
                                      legal_address="Москва")
    keys = {201: "a", 409: "b", 403: "c"}
    for status, key in keys.items():
        ExportRecord.objects.create(
            organization=org, idempotency_key=key, rows=1, field_set="basic",
            accepted=status == 201, response_status=status, response_body={}, created_at=NOW,
        )

    executor = MigrationExecutor(connection)
    after = _targets(executor, AFTER_APP)
    executor.migrate(after)
    apps = executor.loader.project_state(after).apps
    outcomes = dict(apps.get_model("subscriptions", "ExportRecord").objects.values_list(
        "idempotency_key", "outcome"))
    assert outcomes == {"a": "spent", "b": "over_limit", "c": "field_set_missing"}

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    statuses = dict(apps.get_model("subscriptions", "ExportRecord").objects.values_list(
        "idempotency_key", "response_status"))
    assert statuses == {key: status for status, key in keys.items()}

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
