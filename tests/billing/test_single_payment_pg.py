"""One payment, one transaction, few statements (PostgreSQL, real transactions).

The statements counted are everything the confirmation sends, the audit records, the
letter, the webhook rows and the task that sends the letter included (the database
queue, as in production: the worker sends it).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import apply_payment, confirm_manual_payment, record_payment
from podpiska.billing.models import Order, OrderStatus, Payment, PaymentState, QueueReason
from podpiska.notifications.models import EmailMessage, WebhookDelivery, WebhookEndpoint
from podpiska.subscriptions.models import Subscription
from tests.conftest import NOW
from tests.factories import make_org, make_subscription, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

# Everything from the call to its return. A staff confirmation sends ten, in one
# transaction: the order and its organization locked (1); the payment inserted unless the
# same bank document is recorded under another key (2); the latest paid end (3) and the
# subscription (4); the order fulfilled (5); the УПД numbered and inserted by one
# statement (6); the webhook endpoints (7) and the letter's recipients (8); the audit
# records, the letter and the webhook rows by one statement (9); the task that sends the
# letter, queued in the database (10). A card notification sends as many; a queue match
# eleven (the payment locked, then updated, instead of inserted).
MAX_STATEMENTS = 12
# What `django_assert_max_num_queries` sees besides them: the transaction's BEGIN and COMMIT.
TRANSACTION_CONTROL = 2


@pytest.fixture
def renewal(clock, tariffs, order_for, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    owner = make_user("owner@client.example")
    org = make_org(user=owner)
    make_subscription(org, tariffs["200"], NOW - timedelta(days=300))
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s", created_at=NOW)
    order = order_for(org, owner, tariff=tariffs["200"])
    # No УПД counter for 2027 yet: the year's first number creates it in the same statement.
    # As the staff view has it: the order with its organization.
    return Order.objects.select_related("organization").get(pk=order.pk)


def _one_transaction(queries) -> list[str]:
    """The statements sent, after checking they ran in one transaction (no savepoint:
    no transaction inside another); BEGIN and COMMIT are not counted as statements."""
    sql = [q["sql"] for q in queries.captured_queries]
    assert sql.count("BEGIN") == 1 and sql.count("COMMIT") == 1, sql
    assert not any(q.startswith("SAVEPOINT") for q in sql)
    statements = [q for q in sql if q not in ("BEGIN", "COMMIT")]
    assert len(statements) <= MAX_STATEMENTS, statements
    return statements


def test_staff_confirmation_is_one_transaction_of_few_statements(renewal, django_assert_max_num_queries):
    staff = make_user("billing@seller.example", is_staff=True)
    # What placing the order queued (its invoice's letter and webhooks) is not counted.
    for model in (EmailMessage, WebhookDelivery, DBTaskResult):
        model.objects.all().delete()
    with django_assert_max_num_queries(MAX_STATEMENTS + TRANSACTION_CONTROL) as queries:
        payment, created = confirm_manual_payment(
            order=renewal, amount=renewal.price, doc_number="512", doc_date=NOW.date(), actor=staff
        )
    statements = _one_transaction(queries)
    # The task that sends the letter is queued in the transaction: it commits with the letter.
    assert statements[-1].startswith('INSERT INTO "django_tasks_database_dbtaskresult"')
    assert [q["sql"] for q in queries.captured_queries][-1] == "COMMIT"
    assert created and payment.state == PaymentState.APPLIED
    stored = Payment.objects.get()
    assert (stored.pk, stored.state, stored.order_id, stored.resolved_at) == (
        payment.pk, PaymentState.APPLIED, renewal.pk, NOW
    )
    assert Order.objects.get(pk=renewal.pk).status == OrderStatus.FULFILLED
    renewed = Subscription.objects.get(order=renewal)
    assert renewed.starts_at == Subscription.objects.exclude(pk=renewed.pk).get().ends_at
    # The trail: recorded, applied, the subscription, the order, its УПД — all by the staff user.
    trail = AuditRecord.objects.filter(actor=staff).order_by("pk")
    assert list(trail.values_list("action", flat=True)) == [
        "payment.recorded", "payment.applied", "subscription.created", "order.fulfilled",
        "closing_document.issued",
    ]
    from podpiska.billing.models import ClosingDocument, ClosingDocumentCounter

    document = ClosingDocument.objects.get(order=renewal)
    assert (document.number, document.payment_doc_number, document.issued_on) == (
        1, "512", renewed.starts_at.astimezone(renewal.organization.tz).date()
    )
    assert ClosingDocumentCounter.objects.get(year=2027).last_number == 1
    assert trail[0].after == {
        "state": "queued", "queue_reason": "", "order": renewal.pk,
        "organization": renewal.organization_id,
    }
    assert trail[1].before == {"state": "queued", "queue_reason": "", "resolved_at": None}
    assert trail[1].after["state"] == "applied"
    assert trail[2].after["starts_at"] == renewed.starts_at.isoformat()
    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == [
        "order.paid", "subscription.activated",
    ]
    letter = EmailMessage.objects.get()
    assert (letter.to, letter.template, letter.status) == (["owner@client.example"], "order_paid", "pending")
    assert DBTaskResult.objects.filter(task_path__endswith="send_email_run_task").count() == 1

    # The same document again: nothing more, and still one transaction (the order locked,
    # the insert that writes nothing, the payment recorded first looked up).
    with django_assert_max_num_queries(3 + TRANSACTION_CONTROL):
        again, created = confirm_manual_payment(
            order=renewal, amount=renewal.price, doc_number="512", doc_date=NOW.date(), actor=staff
        )
    assert not created and again.pk == payment.pk
    assert Payment.objects.count() == 1 and Subscription.objects.count() == 2
    assert AuditRecord.objects.filter(actor=staff).count() == 5


def test_card_notification_is_one_transaction_of_few_statements(renewal, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_STATEMENTS + TRANSACTION_CONTROL) as queries:
        payment, created = record_payment(
            source="online", amount=renewal.price, received_at=NOW, dedup_key="sandbox:p-1",
            order=renewal, actor="yookassa", provider="sandbox", provider_payment_id="p-1",
        )
    _one_transaction(queries)
    assert created and Payment.objects.get().state == PaymentState.APPLIED
    assert Order.objects.get(pk=renewal.pk).status == OrderStatus.FULFILLED


def test_queue_match_is_one_transaction_of_few_statements(renewal, django_assert_max_num_queries):
    staff = make_user("billing@seller.example", is_staff=True)
    queued, _ = record_payment(
        source="statement", amount=renewal.price, received_at=NOW, dedup_key="bank-1",
        organization=renewal.organization, queue_reason=QueueReason.NO_MATCH,
    )
    with django_assert_max_num_queries(MAX_STATEMENTS + TRANSACTION_CONTROL) as queries:
        outcome = apply_payment(queued, renewal, actor=staff)
    _one_transaction(queries)
    assert outcome == "fulfilled"
    applied = AuditRecord.objects.get(action="payment.applied", actor=staff)
    assert applied.before == {
        "state": "queued", "queue_reason": QueueReason.NO_MATCH, "resolved_at": None,
        "order": None, "organization": renewal.organization_id,
    }
    assert applied.after["order"] == renewal.pk and applied.after["state"] == "applied"
    # Matched again (a second click): nothing more.
    assert apply_payment(queued, renewal, actor=staff) == "fulfilled"
    assert Subscription.objects.filter(order=renewal).count() == 1


def test_an_underpayment_is_queued_with_its_reason_in_as_few(renewal, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_STATEMENTS + TRANSACTION_CONTROL) as queries:
        payment, created = record_payment(
            source="statement", amount=renewal.price - 1, received_at=NOW, dedup_key="bank-2",
            order=renewal,
        )
    _one_transaction(queries)
    assert created and (payment.state, payment.queue_reason) == ("queued", QueueReason.UNDERPAID)
    stored = Payment.objects.get()
    assert (stored.state, stored.queue_reason, stored.resolved_at) == ("queued", "underpaid", None)
    assert Order.objects.get(pk=renewal.pk).status == OrderStatus.AWAITING_PAYMENT
    assert WebhookDelivery.objects.filter(event="payment.queued").count() == 1
    assert list(
        AuditRecord.objects.filter(object_type="billing.payment").order_by("pk")
        .values_list("action", flat=True)
    ) == ["payment.recorded", "payment.queued"]
