"""Statement import end to end: a generated file, real orders and invoices, the real DB."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from podpiska.audit.log import PAYMENT_RECORDED_FIELDS, snapshot
from podpiska.audit.models import AuditRecord
from podpiska.billing.actions import cancel_order
from podpiska.billing.invoices import payment_purpose
from podpiska.billing.models import (
    Order,
    OrderKind,
    OrderStatus,
    Payment,
    PaymentState,
    QueueReason,
    StatementImport,
)
from podpiska.billing.statements import importer
from podpiska.billing.statements.generator import generate_incoming_payment, generate_statement
from podpiska.billing.statements.importer import import_statement
from podpiska.core.requisites import inn_check_digits
from podpiska.subscriptions.models import Subscription
from tests import factories
from tests.conftest import NOW

MSK = ZoneInfo("Europe/Moscow")
PAID_ON = date(2026, 11, 25)
OTHER_ACCOUNT = "40702810500000000777"


def seller_account() -> str:
    return settings.PODPISKA_SELLER["account"]


def invoiced_order(tariffs, order_for, *, inn_seed=None) -> Order:
    """A never-paid organization ordering the default offer (Компас 400) by invoice."""
    owner = factories.make_user()
    org = factories.make_org(user=owner)
    return order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])


_numbers = iter(range(100, 10_000))


def payment(order=None, *, amount=None, purpose=None, inn=None, number=None, **over) -> dict:
    """An incoming payment order as the customer's bank would send it for `order`."""
    fields = dict(
        number=str(number or next(_numbers)),
        day=PAID_ON,
        amount=amount if amount is not None else order.price,
        purpose=purpose if purpose is not None else payment_purpose(order.invoice),
        payer_name=order.requisites["name"] if order else "ООО «Кто-то»",
        payer_inn=inn if inn is not None else order.requisites["inn"],
        payer_account="40702810400000000123",
        payee_account=seller_account(),
        payee_bik=settings.PODPISKA_SELLER["bik"],
    )
    fields.update(over)
    return generate_incoming_payment(**fields)


def statement(documents, **over) -> bytes:
    options = dict(
        account=seller_account(),
        bank_bik=settings.PODPISKA_SELLER["bik"],
        date_from=PAID_ON,
        date_to=PAID_ON,
        created=datetime(2026, 11, 26, 9, 0),
    )
    options.update(over)
    return generate_statement(documents, **options)


@dataclass
class Mix:
    exact: Order
    wrong_inn: Order
    underpaid: Order
    overpaid: Order
    cancelled: Order
    foreign: Order
    data: bytes


@pytest.fixture
def mix(clock, tariffs, order_for) -> Mix:
    """Every kind of document a statement brings, one each."""
    exact, wrong_inn, underpaid, overpaid, cancelled, foreign = (
        invoiced_order(tariffs, order_for) for _ in range(6)
    )
    cancel_order(cancelled, actor=None)
    stranger = factories.make_org()
    documents = [
        payment(exact),
        payment(wrong_inn, inn=stranger.inn),
        payment(
            exact,
            purpose="Оплата по счёту № 2026-99999 за доступ к сервису",
            amount=12_345_00,
            number=90,
        ),
        payment(underpaid, amount=underpaid.price - 1),
        payment(overpaid, amount=overpaid.price + 500_00),
        payment(cancelled),
        payment(foreign, inn="4", payer_bik="", payer_account="GB29NWBK60161331926819"),
        # Outgoing: we paid someone.
        {
            **payment(exact),
            "payer_account": seller_account(),
            "payee_account": OTHER_ACCOUNT,
            "date_credited": None,
        },
        # Money to someone else's account that the bank listed too.
        {**payment(exact), "payee_account": OTHER_ACCOUNT},
    ]
    return Mix(exact, wrong_inn, underpaid, overpaid, cancelled, foreign, statement(documents))


EXPECTED = {"documents": 9, "incoming": 7, "matched": 2, "queued": 5, "duplicates": 0, "skipped": 2}


def outcomes() -> dict:
    """Every payment as (doc number, state, reason, order status), order-independent."""
    return {
        p.doc_number: (p.state, p.queue_reason, p.amount, p.order.status if p.order else None)
        for p in Payment.objects.select_related("order")
    }


def test_each_kind_of_document_gets_its_outcome(mix):
    report = import_statement(mix.data, file_name="kl_to_1c.txt")
    assert report.as_dict() == EXPECTED

    for order in (mix.exact, mix.overpaid):
        order.refresh_from_db()
        assert order.status == OrderStatus.FULFILLED
        subscription = Subscription.objects.get(order=order)
        # Starts when the import confirms the payment, not on the bank's date.
        assert subscription.starts_at == NOW
    assert not mix.exact.overpaid and mix.overpaid.overpaid

    by_order = {p.order_id: p for p in Payment.objects.exclude(order=None)}
    assert by_order[mix.exact.pk].state == PaymentState.APPLIED
    underpaid = by_order[mix.underpaid.pk]
    assert (underpaid.state, underpaid.queue_reason) == (PaymentState.QUEUED, QueueReason.UNDERPAID)
    closed = by_order[mix.cancelled.pk]
    assert (closed.state, closed.queue_reason) == (PaymentState.QUEUED, QueueReason.ORDER_CLOSED)
    for order in (mix.underpaid, mix.cancelled, mix.wrong_inn, mix.foreign):
        assert not Subscription.objects.filter(order=order).exists()

    unlinked = Payment.objects.filter(order=None)
    assert sorted(p.queue_reason for p in unlinked) == [
        QueueReason.INN_MISMATCH,
        QueueReason.INN_MISMATCH,
        QueueReason.NO_MATCH,
    ]
    mismatches = Payment.objects.filter(queue_reason=QueueReason.INN_MISMATCH).order_by("pk")
    assert [p.suggestions[0] for p in mismatches] == [
        mix.wrong_inn.invoice.pk,
        mix.foreign.invoice.pk,
    ]
    foreign = mismatches[1]
    assert foreign.payer_inn == "4" and foreign.organization is None

    unknown = Payment.objects.get(queue_reason=QueueReason.NO_MATCH)
    # Named nothing we know; the payer's only open invoice is paid by this same file,
    # so it is not suggested, and no open invoice has that amount.
    assert unknown.amount == 12_345_00 and unknown.suggestions == []
    assert unknown.organization == mix.exact.organization  # the payer is a customer
    assert unknown.received_at == datetime(2026, 11, 25, tzinfo=MSK)

    imported = StatementImport.objects.get()
    assert imported.report == EXPECTED and imported.file_name == "kl_to_1c.txt"
    assert Payment.objects.filter(statement=imported).count() == 7
    assert AuditRecord.objects.filter(action="payment.recorded").count() == 7
    assert AuditRecord.objects.filter(action="statement.imported").count() == 1


def test_queued_payments_suggest_open_invoices_by_inn_and_by_amount(clock, tariffs, order_for):
    mine = invoiced_order(tariffs, order_for)
    same_amount = invoiced_order(tariffs, order_for)
    data = statement([payment(mine, purpose="Оплата за доступ, без номера счёта")])
    report = import_statement(data, file_name="s.txt")
    assert report.queued == 1
    queued = Payment.objects.get()
    assert queued.queue_reason == QueueReason.NO_MATCH
    # The payer's own open invoice first, then the newest other one with the same total.
    assert queued.suggestions == [mine.invoice.pk, same_amount.invoice.pk]
    assert queued.organization == mine.organization


def test_reimport_credits_nothing_twice_and_changes_no_subscription(mix):
    import_statement(mix.data, file_name="a.txt")
    before = outcomes()
    subscriptions = list(Subscription.objects.values_list("pk", "order_id", "starts_at", "ends_at"))
    report = import_statement(mix.data, file_name="a.txt")
    assert report.as_dict() == {**EXPECTED, "matched": 0, "queued": 0, "duplicates": 7}
    assert outcomes() == before
    assert (
        list(Subscription.objects.values_list("pk", "order_id", "starts_at", "ends_at"))
        == subscriptions
    )
    assert StatementImport.objects.count() == 2


def test_the_same_document_twice_in_one_file_is_credited_once(clock, tariffs, order_for):
    order = invoiced_order(tariffs, order_for)
    document = payment(order)
    report = import_statement(statement([document, document]), file_name="twice.txt")
    assert report.as_dict() == {
        "documents": 2,
        "incoming": 2,
        "matched": 1,
        "queued": 0,
        "duplicates": 1,
        "skipped": 0,
    }
    assert Payment.objects.count() == 1 and Subscription.objects.filter(order=order).count() == 1


def test_a_second_payment_for_a_paid_invoice_waits_for_staff(clock, tariffs, order_for):
    order = invoiced_order(tariffs, order_for)
    report = import_statement(statement([payment(order), payment(order)]), file_name="s.txt")
    assert (report.matched, report.queued) == (1, 1)
    second = Payment.objects.get(state=PaymentState.QUEUED)
    assert second.queue_reason == QueueReason.ALREADY_PAID and second.order == order
    assert Subscription.objects.filter(order=order).count() == 1


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [
        ("cp1251", "\r\n"),
        ("cp866", "\r\n"),
        ("utf-8", "\n"),
        ("utf-8-sig", "\r\n"),
        ("cp1251", "\n"),
    ],
)
def test_every_encoding_and_line_ending_gives_the_same_result(
    clock, tariffs, order_for, encoding, newline
):
    order = invoiced_order(tariffs, order_for)
    other = invoiced_order(tariffs, order_for)
    # DOS code page 866 has no «»: its banks write plain quotes.
    documents = [
        {
            name: value.replace("«", '"').replace("»", '"') if isinstance(value, str) else value
            for name, value in document.items()
        }
        for document in (
            payment(order, payer_name="ООО «Ёлка и Щука»"),
            payment(other, amount=1_00),
        )
    ]
    reference = statement(documents)
    data = statement(documents, encoding=encoding, newline=newline)
    report = import_statement(data, file_name="s.txt")
    assert report.as_dict() == {
        "documents": 2,
        "incoming": 2,
        "matched": 1,
        "queued": 1,
        "duplicates": 0,
        "skipped": 0,
    }
    assert Payment.objects.get(order=order).payer_name == 'ООО "Ёлка и Щука"'
    # The same bank documents in the canonical encoding are recognised as already imported.
    assert import_statement(reference, file_name="again.txt").duplicates == 2


@pytest.mark.parametrize(
    ("damage", "line", "message"),
    [
        (lambda text: text[: text.rindex("\r\n", 0, len(text) // 2) + 2], None, "оборван"),
        (lambda text: text[: len(text) // 2], None, ""),  # cut inside a line
        (lambda text: text.replace("1CClientBankExchange", "<html>", 1), 1, "не выписка"),
        (lambda text: text.replace("Сумма=", "Сумма=12а", 1), 23, "неверная сумма"),
        (lambda text: text.replace("КонецДокумента\r\n", "", 1), 47, "не закрыта"),
    ],
)
def test_a_malformed_file_is_refused_whole(mix, damage, line, message):
    text = mix.data.decode("cp1251")
    data = damage(text).encode("cp1251")
    report = import_statement(data, file_name="bad.txt")
    assert report.error and message in report.error
    assert report.line == (line if line is not None else report.line) and report.line > 0
    assert report.as_dict() == {"error": report.error, "line": report.line}
    assert Payment.objects.count() == 0 and StatementImport.objects.count() == 0
    assert not Subscription.objects.exists()


def test_extra_seller_accounts_are_taken_too(clock, tariffs, order_for, settings):
    settings.PODPISKA_SELLER = {**settings.PODPISKA_SELLER, "accounts": [OTHER_ACCOUNT]}
    order = invoiced_order(tariffs, order_for)
    data = statement([payment(order, payee_account=OTHER_ACCOUNT)], account=OTHER_ACCOUNT)
    assert import_statement(data, file_name="s.txt").matched == 1


def test_a_crash_midway_loses_nothing_and_a_reimport_completes_it(
    clock, tariffs, order_for, monkeypatch
):
    first, second = (invoiced_order(tariffs, order_for) for _ in range(2))
    data = statement(
        [payment(first), payment(second), payment(first, purpose="без номера", number=7)]
    )
    # One payment per transaction, and the power goes out while applying the second.
    monkeypatch.setattr(importer, "BATCH", 1)
    real = importer.carry_out
    calls = []

    def crash_on_second(decision, **kwargs):
        calls.append(decision)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(decision, **kwargs)

    monkeypatch.setattr(importer, "carry_out", crash_on_second)
    with pytest.raises(RuntimeError):
        import_statement(data, file_name="s.txt")
    assert Payment.objects.count() == 1  # the first batch only: the second rolled back
    monkeypatch.setattr(importer, "carry_out", real)

    report = import_statement(data, file_name="s.txt")
    assert report.duplicates == 1 and report.matched + report.queued == 2
    assert Payment.objects.count() == 3
    assert Payment.objects.filter(state=PaymentState.APPLIED).count() == 2
    for order in (first, second):
        order.refresh_from_db()
        assert order.status == OrderStatus.FULFILLED
        assert Subscription.objects.filter(order=order).count() == 1


def test_zero_amount_and_payments_between_our_accounts_are_skipped(
    clock, tariffs, order_for, settings
):
    settings.PODPISKA_SELLER = {**settings.PODPISKA_SELLER, "accounts": [OTHER_ACCOUNT]}
    order = invoiced_order(tariffs, order_for)
    transfer = {**payment(order), "payer_account": OTHER_ACCOUNT, "date_credited": None}
    report = import_statement(statement([payment(order, amount=0), transfer]), file_name="s.txt")
    assert (report.incoming, report.skipped) == (0, 2)
    assert not Payment.objects.exists()


def test_every_payment_is_audited_once_as_recorded_in_its_final_state(
    clock, tariffs, order_for
):
    order = invoiced_order(tariffs, order_for)
    stranger = invoiced_order(tariffs, order_for)
    import_statement(
        statement([payment(order), payment(stranger, inn="4", number=2)]), file_name="s.txt"
    )
    applied = Payment.objects.get(order=order)
    queued = Payment.objects.get(order__isnull=True)
    recorded = AuditRecord.objects.get(action="payment.recorded", object_id=str(queued.pk))
    # The record keeps how the payment entered the books; the bank document stays on
    # the payment row, not copied into the log.
    assert recorded.after == snapshot(queued, PAYMENT_RECORDED_FIELDS)
    assert recorded.after == {
        "state": "queued", "queue_reason": queued.queue_reason, "order": None,
        "organization": queued.organization_id,
    }
    assert queued.suggestions == [stranger.invoice.pk]
    trail = AuditRecord.objects.filter(object_type="billing.payment", object_id=str(applied.pk))
    assert list(trail.values_list("action", flat=True)) == ["payment.recorded"]
    assert trail.get().after == snapshot(applied, PAYMENT_RECORDED_FIELDS)
    assert trail.get().after["state"] == PaymentState.APPLIED
    assert (applied.state, applied.order_id) == (PaymentState.APPLIED, order.pk)
    order.refresh_from_db()
    fulfilled = AuditRecord.objects.get(action="order.fulfilled", object_id=str(order.pk))
    assert fulfilled.after == snapshot(order, ["status", "paid_at", "fulfilled_at", "overpaid"])
    assert fulfilled.after["status"] == OrderStatus.FULFILLED and fulfilled.after["paid_at"]
    subscription = Subscription.objects.get(order=order)
    created = AuditRecord.objects.get(action="subscription.created", object_id=str(subscription.pk))
    assert created.before is None and created.after == snapshot(subscription)
    assert fulfilled.before == {
        "status": OrderStatus.AWAITING_PAYMENT, "paid_at": None, "fulfilled_at": None,
        "overpaid": False,
    }


def test_an_inn_with_a_leading_zero_matches(clock, tariffs, order_for):
    owner = factories.make_user()
    org = factories.make_org(user=owner, inn=inn_check_digits("027406211"))
    assert org.inn.startswith("0")
    order = order_for(org, owner, kind=OrderKind.DEFAULT_OFFER, tariff=tariffs["400"])
    assert import_statement(statement([payment(order)]), file_name="s.txt").matched == 1


def test_paid_orders_notify_their_owners_with_queries_that_do_not_grow(clock, tariffs, order_for):
    """Each paid order's owner gets a confirmation; the letters are written together."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from podpiska.notifications.models import EmailMessage

    def import_paying(count: int) -> int:
        orders = [invoiced_order(tariffs, order_for) for _ in range(count)]
        EmailMessage.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            report = import_statement(statement([payment(o) for o in orders]), file_name="s.txt")
        assert report.matched == count
        letters = EmailMessage.objects.filter(template="order_paid")
        assert sorted(m.context["order_id"] for m in letters) == sorted(o.pk for o in orders)
        assert all(m.to == [o.created_by.email] for m in letters for o in orders if o.pk == m.context["order_id"])
        return len(queries)

    # The year's first closing document creates the year's counter row: once, not per order.
    import_paying(1)
    few = import_paying(2)
    assert import_paying(7) == few


def test_a_payment_confirmed_by_hand_is_a_duplicate_when_the_statement_brings_it(
    clock, tariffs, order_for
):
    from podpiska.billing.actions import confirm_manual_payment

    order = invoiced_order(tariffs, order_for)
    other = invoiced_order(tariffs, order_for)
    confirm_manual_payment(
        order=order, amount=order.price, doc_number="17", doc_date=PAID_ON, actor=None
    )
    confirm_manual_payment(
        order=other, amount=other.price, doc_number="18", doc_date=PAID_ON, actor=None
    )
    report = import_statement(
        statement([
            payment(order, number="00017"),  # the same bank document, zero-padded
            payment(other, number="81"),  # another document for a paid order
        ]),
        file_name="s.txt",
    )
    assert (report.duplicates, report.matched, report.queued) == (1, 0, 1)
    assert Payment.objects.filter(order=order).count() == 1
    late = Payment.objects.get(order=other, source="statement")
    assert late.queue_reason == QueueReason.ALREADY_PAID
    assert Subscription.objects.filter(order__in=[order, other]).count() == 2


def test_a_statement_payment_confirmed_again_by_hand_is_the_same_document(clock, tariffs, order_for):
    """The other direction: the statement first, then the bank's notice entered by hand
    (its number without the zeros the statement had). Nothing is recorded twice and
    nothing waits in the queue as «заказ уже оплачен»."""
    from podpiska.billing.actions import confirm_manual_payment

    order = invoiced_order(tariffs, order_for)
    assert import_statement(statement([payment(order, number="00017")]), file_name="s.txt").matched == 1
    [first] = Payment.objects.filter(order=order)
    records = AuditRecord.objects.count()
    again, created = confirm_manual_payment(
        order=order, amount=order.price, doc_number="17", doc_date=PAID_ON, actor=None
    )
    assert (again, created) == (first, False)
    assert Payment.objects.filter(order=order).count() == 1
    assert not Payment.objects.filter(queue_reason=QueueReason.ALREADY_PAID).exists()
    assert AuditRecord.objects.count() == records
    # Another document for the paid order is still money received: it waits in the queue.
    other, created = confirm_manual_payment(
        order=order, amount=order.price, doc_number="18", doc_date=PAID_ON, actor=None
    )
    assert created and other.queue_reason == QueueReason.ALREADY_PAID


@pytest.fixture
def staff_client(db):
    from django.test import Client

    client = Client()
    client.force_login(factories.make_user("root@podpiska.local", is_staff=True, is_superuser=True))
    return client


def test_staff_are_told_before_saving_that_the_statement_brought_it(
    clock, tariffs, order_for, staff_client
):
    order = invoiced_order(tariffs, order_for)
    import_statement(statement([payment(order, number="00017")]), file_name="s.txt")
    count = Payment.objects.count()
    response = staff_client.post("/staff/payments/confirm/", {
        "reference": order.invoice.display_number, "amount": str(order.price // 100),
        "doc_date": PAID_ON.isoformat(), "doc_number": "17",
    })
    page = response.content.decode()
    assert response.status_code == 200 and "уже получено с выпиской" in page
    assert Payment.objects.count() == count


def test_staff_are_sent_to_the_queue_when_the_statement_line_is_unmatched(
    clock, tariffs, order_for, staff_client
):
    order = invoiced_order(tariffs, order_for)
    # The customer's bank left out the invoice number and paid from another INN.
    import_statement(statement([payment(order, number="31", purpose="Оплата за сервис",
                                        inn="7707083893")]), file_name="s.txt")
    queued = Payment.objects.get()
    assert queued.order is None and queued.state == "queued"
    response = staff_client.post("/staff/payments/confirm/", {
        "reference": order.invoice.display_number, "amount": str(order.price // 100),
        "doc_date": PAID_ON.strftime("%d.%m.%Y"), "doc_number": "031",
    })
    assert "ждёт разбора в очереди" in response.content.decode()
    assert Payment.objects.count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
