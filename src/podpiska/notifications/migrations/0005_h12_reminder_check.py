"""When the tick next looks at an organization (`ReminderCheck`), kept current by the
database: any write of the subscriptions table, or of an organization's time zone, marks
the organizations it touched as due now (the distant past) and bumps their version.

On PostgreSQL the subscription triggers run once per statement over its transition
table, so a statement import that starts fifty thousand subscriptions with one COPY
touches each organization with one more statement, not fifty thousand trigger calls.
Rows are locked in organization order, as every other path locks organizations.
"""

import django.db.models.deletion
from django.db import migrations, models

PAST_PG = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
PAST_SQLITE = "'2000-01-01 00:00:00'"
TABLE = "notifications_remindercheck"

POSTGRES = [
    f"""
    CREATE FUNCTION reminder_check_touch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO {TABLE} (organization_id, due_at, version)
            SELECT organization_id, {PAST_PG}, 1 FROM new_rows
            GROUP BY organization_id ORDER BY organization_id
            ON CONFLICT (organization_id) DO UPDATE
                SET due_at = EXCLUDED.due_at, version = {TABLE}.version + 1;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            -- No insert here: a cascade deleting the organization deletes this row too.
            UPDATE {TABLE} SET due_at = {PAST_PG}, version = version + 1
            WHERE organization_id IN (SELECT organization_id FROM old_rows);
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER reminder_check_insert AFTER INSERT ON subscriptions_subscription "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reminder_check_touch()",
    "CREATE TRIGGER reminder_check_update AFTER UPDATE ON subscriptions_subscription "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION reminder_check_touch()",
    "CREATE TRIGGER reminder_check_delete AFTER DELETE ON subscriptions_subscription "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reminder_check_touch()",
    f"""
    CREATE FUNCTION reminder_check_timezone() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {TABLE} SET due_at = {PAST_PG}, version = version + 1
        WHERE organization_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER reminder_check_timezone AFTER UPDATE OF timezone ON accounts_organization "
    "FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone) "
    "EXECUTE FUNCTION reminder_check_timezone()",
]

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS reminder_check_insert ON subscriptions_subscription",
    "DROP TRIGGER IF EXISTS reminder_check_update ON subscriptions_subscription",
    "DROP TRIGGER IF EXISTS reminder_check_delete ON subscriptions_subscription",
    "DROP TRIGGER IF EXISTS reminder_check_timezone ON accounts_organization",
    "DROP FUNCTION IF EXISTS reminder_check_touch()",
    "DROP FUNCTION IF EXISTS reminder_check_timezone()",
]

_SQLITE_UPSERT = (
    f"INSERT INTO {TABLE} (organization_id, due_at, version) "
    f"VALUES (NEW.organization_id, {PAST_SQLITE}, 1) "
    f"ON CONFLICT (organization_id) DO UPDATE SET due_at = excluded.due_at, "
    f"version = {TABLE}.version + 1;"
)
_SQLITE_MARK = (
    f"UPDATE {TABLE} SET due_at = {PAST_SQLITE}, version = version + 1 "
    "WHERE organization_id = {row}.{column};"
)

SQLITE = [
    "CREATE TRIGGER reminder_check_insert AFTER INSERT ON subscriptions_subscription "
    f"BEGIN {_SQLITE_UPSERT} END",
    "CREATE TRIGGER reminder_check_update AFTER UPDATE ON subscriptions_subscription "
    f"BEGIN {_SQLITE_MARK.format(row='OLD', column='organization_id')} {_SQLITE_UPSERT} END",
    "CREATE TRIGGER reminder_check_delete AFTER DELETE ON subscriptions_subscription "
    f"BEGIN {_SQLITE_MARK.format(row='OLD', column='organization_id')} END",
    "CREATE TRIGGER reminder_check_timezone AFTER UPDATE OF timezone ON accounts_organization "
    f"WHEN OLD.timezone <> NEW.timezone BEGIN {_SQLITE_MARK.format(row='NEW', column='id')} END",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS reminder_check_insert",
    "DROP TRIGGER IF EXISTS reminder_check_update",
    "DROP TRIGGER IF EXISTS reminder_check_delete",
    "DROP TRIGGER IF EXISTS reminder_check_timezone",
]


def add_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in POSTGRES if postgres else SQLITE:
        schema_editor.execute(sql, params=None)
    # Every organization with a timeline is looked at by the first tick.
    schema_editor.execute(
        f"INSERT INTO {TABLE} (organization_id, due_at, version) "
        f"SELECT DISTINCT organization_id, {PAST_PG if postgres else PAST_SQLITE}, 1 "
        "FROM subscriptions_subscription",
        params=None,
    )


def drop_triggers(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in POSTGRES_DROP if postgres else SQLITE_DROP:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_field_labels'),
        ('notifications', '0004_field_labels'),
        ('subscriptions', '0004_field_labels'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReminderCheck',
            fields=[
                ('organization', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='accounts.organization', verbose_name='организация')),
                ('due_at', models.DateTimeField(blank=True, null=True, verbose_name='проверить с')),
                ('version', models.BigIntegerField(default=0, verbose_name='версия')),
            ],
            options={
                'verbose_name': 'проверка напоминаний',
                'verbose_name_plural': 'проверки напоминаний',
                'indexes': [models.Index(fields=['due_at'], name='reminder_check_due')],
            },
        ),
        migrations.AlterField(
            model_name='remindersent',
            name='organization',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='accounts.organization', verbose_name='организация'),
        ),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
