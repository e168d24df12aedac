"""ExportRecord keeps what a consumption came to, not the HTTP status it was answered
with: the status is the API's business (api.api.STATUS)."""

from django.db import migrations, models

OUTCOME_BY_STATUS = {201: "spent", 409: "over_limit", 403: "field_set_missing"}


def statuses_to_outcomes(apps, schema_editor):
    ExportRecord = apps.get_model("subscriptions", "ExportRecord")
    for status, outcome in OUTCOME_BY_STATUS.items():
        ExportRecord.objects.filter(response_status=status).update(outcome=outcome)


def outcomes_to_statuses(apps, schema_editor):
    ExportRecord = apps.get_model("subscriptions", "ExportRecord")
    for status, outcome in OUTCOME_BY_STATUS.items():
        ExportRecord.objects.filter(outcome=outcome).update(response_status=status)


class Migration(migrations.Migration):

    dependencies = [
        ("subscriptions", "0004_field_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportrecord",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("spent", "списано"),
                    ("over_limit", "сверх лимита"),
                    ("field_set_missing", "набор полей не в тарифе"),
                ],
                default="spent",
                max_length=20,
                verbose_name="исход",
            ),
            preserve_default=False,
        ),
        # The old column stays nullable on the way back until the data is restored.
        migrations.AlterField(
            model_name="exportrecord",
            name="response_status",
            field=models.PositiveSmallIntegerField(null=True, verbose_name="код ответа"),
        ),
        migrations.RunPython(statuses_to_outcomes, outcomes_to_statuses),
        migrations.RemoveField(model_name="exportrecord", name="response_status"),
    ]
