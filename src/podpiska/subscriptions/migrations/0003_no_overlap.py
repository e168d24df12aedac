"""On PostgreSQL, the database itself refuses two subscriptions of one organization
that overlap: the timeline's rule (SPEC §3) holds even for a code path that forgot to
lock the organization. SQLite has no exclusion constraints; there the lock in
`start_subscriptions` (one writer at a time anyway) is the guarantee."""

from django.db import migrations

CONSTRAINT = "subscription_no_overlap"


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # btree_gist lets a GiST index compare the organization id with "=" next to the
    # range; it is a trusted extension: the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE subscriptions_subscription ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (organization_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)"
    )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE subscriptions_subscription DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
    )


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0002_organization_index_in_composite")]

    operations = [migrations.RunPython(add, remove)]
