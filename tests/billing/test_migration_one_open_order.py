"""The migration that brings in the one-open-order rule closes what would break it:
of an organization's unpaid term orders the latest stays open, the older ones are
cancelled with the reason and their invoices annulled (numbers kept)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import NOW

BEFORE = [("billing", "0005_field_labels"), ("accounts", "0003_h15b_lapsed_notice")]
AFTER = [("billing", "0006_h15b_one_open_order")]


@pytest.mark.django_db(transaction=True)
def test_duplicate_open_orders_are_closed_before_the_constraint(clock):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Organization = apps.get_model("accounts", "Organization")
    Order = apps.get_model("billing", "Order")
    Invoice = apps.get_model("billing", "Invoice")
    org = Organization.objects.create(name="ООО «Старое»", short_name="Старое", inn="7707083893",
                                      legal_address="Москва")
    terms = dict(tariff_name="Компас 200", price=100, export_limit=1, term_months=12,
                 field_set="basic", limit_reset="term", requisites={}, payment_method="invoice")
    older = Order.objects.create(organization=org, kind="renew", idempotency_key="a",
                                 created_at=NOW, **terms)
    newer = Order.objects.create(organization=org, kind="upgrade", idempotency_key="b",
                                 created_at=NOW.replace(hour=13), **terms)
    addon = Order.objects.create(organization=org, kind="addon", idempotency_key="c",
                                 created_at=NOW, **terms)
    invoice = Invoice.objects.create(order=older, organization=org, year=2026, number=1,
                                     issued_on=NOW.date(), pay_by=NOW.date(), seller={}, buyer={},
                                     line="Доступ", total=100, created_at=NOW)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from podpiska.billing.models import Invoice as NowInvoice
    from podpiska.billing.models import Order as NowOrder

    statuses = dict(NowOrder.objects.values_list("pk", "status"))
    assert statuses == {older.pk: "cancelled", newer.pk: "awaiting_payment",
                        addon.pk: "awaiting_payment"}
    closed = NowOrder.objects.get(pk=older.pk)
    assert (closed.replaced_by_id, closed.cancel_reason) == (newer.pk, "Заменён более поздним заказом")
    annulled = NowInvoice.objects.get(pk=invoice.pk)
    assert annulled.annulled_at == NOW and annulled.number == 1
