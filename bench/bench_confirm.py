"""Confirming payments one at a time, as staff do from the bank's notice.

N organizations (1 000 unless BENCH_CONFIRM_PAYMENTS says otherwise), each with an
owner, a paid year and an unpaid renewal, are set up with COPY; then each renewal is
confirmed with `confirm_manual_payment` — one transaction each: the payment, the
subscription, the order, the audit records, the letter and the webhook rows — in a
row, on one connection. The baseline, in the same run on the same connection, is as
many bare `UPDATE … RETURNING` round trips, each committed on its own: what the
database and the driver take for one tiny transaction.
"""

import os
import time
from datetime import timedelta

from django.db import connection, transaction

from podpiska.accounts.models import Membership, Organization, User
from podpiska.billing.actions import confirm_manual_payment
from podpiska.billing.models import Order, OrderKind, OrderStatus, PaymentMethod
from podpiska.core import bulk, clock
from podpiska.core.requisites import inn_check_digits
from podpiska.demo.data import load_catalog
from podpiska.notifications.models import WebhookEndpoint
from podpiska.subscriptions.models import Subscription

DEFAULT_PAYMENTS = 1_000


def _renewals(count: int, now) -> list[Order]:
    tariff = load_catalog()["200"]
    organizations = bulk.insert(
        Organization,
        [
            {
                "name": f"Общество с ограниченной ответственностью «Плательщик {i}»",
                "short_name": f"ООО «Плательщик {i}»",
                "inn": inn_check_digits(f"78{i:08d}"),
                "kpp": "780101001",
                "legal_address": "190000, г. Санкт-Петербург, Невский пр., д. 1",
                "created_at": now,
            }
            for i in range(count)
        ],
    )
    users = bulk.insert(
        User,
        [{"email": f"payer{i}@client.example", "password": "!", "date_joined": now} for i in range(count)],
    )
    bulk.insert(
        Membership,
        [
            {"user_id": user, "organization_id": org, "role": Membership.Role.OWNER}
            for user, org in zip(users, organizations, strict=True)
        ],
    )
    bulk.insert(
        Subscription,
        [
            {
                "organization_id": org, "tariff_id": tariff.pk, "starts_at": now - timedelta(days=300),
                "ends_at": now + timedelta(days=65), "created_at": now, **tariff.terms(),
            }
            for org in organizations
        ],
    )
    requisites = {"name": "ООО «Плательщик»", "inn": "7800000000"}
    ids = bulk.insert(
        Order,
        [
            {
                "organization_id": org, "kind": OrderKind.RENEW, "tariff_id": tariff.pk,
                "requisites": requisites, "payment_method": PaymentMethod.INVOICE,
                "idempotency_key": f"bench-{org}", "created_at": now,
                "pay_by": now.date() + timedelta(days=7), "status": OrderStatus.AWAITING_PAYMENT,
                **tariff.terms(),
            }
            for org in organizations
        ],
    )
    return list(Order.objects.filter(pk__in=ids).select_related("organization").order_by("pk"))


def _bare_round_trips(count: int) -> float:
    """`count` one-row UPDATE … RETURNING, each its own transaction (autocommit)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_counter (id int PRIMARY KEY, n bigint NOT NULL)")
        cursor.execute("INSERT INTO bench_counter VALUES (1, 0)")
        started = time.perf_counter()
        for _ in range(count):
            cursor.execute("UPDATE bench_counter SET n = n + 1 WHERE id = 1 RETURNING n")
            cursor.fetchone()
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_counter")
    return elapsed


def run(report: dict) -> None:
    count = int(os.environ.get("BENCH_CONFIRM_PAYMENTS", DEFAULT_PAYMENTS))
    now = clock.now()
    staff = User.objects.create(email="billing@seller.example", password="!", is_staff=True)
    # A receiver of webhooks, as in production: each confirmation writes its rows.
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=now)
    orders = _renewals(count, now)
    report["payments"] = count
    report["database"] = connection.vendor

    bare = min(_bare_round_trips(count) for _ in range(2))
    started = time.perf_counter()
    for order in orders:
        payment, created = confirm_manual_payment(
            order=order, amount=order.price, doc_number=str(order.pk), doc_date=now.date(),
            actor=staff,
        )
        if not created or payment.state != "applied":
            raise AssertionError(f"order {order.pk}: {payment.state}")
    elapsed = time.perf_counter() - started
    assert not transaction.get_connection().in_atomic_block
    fulfilled = Order.objects.filter(status=OrderStatus.FULFILLED).count()
    if fulfilled != count or Subscription.objects.count() != 2 * count:
        raise AssertionError(f"fulfilled {fulfilled} of {count}")

    report["confirmations_per_second"] = round(count / elapsed, 1)
    report["bare_update_returning_per_second"] = round(count / bare, 1)
    report["confirmation_to_bare"] = round(elapsed / bare, 1)
