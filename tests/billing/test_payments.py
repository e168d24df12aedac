from datetime import timedelta

import pytest
from django.db import connection

from podpiska.billing.actions import Outcome, apply_payment, cancel_order, record_payment
from podpiska.billing.models import OrderKind, OrderStatus, Payment, PaymentState, QueueReason
from podpiska.catalog.actions import make_offer
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.quota import current_period
from podpiska.subscriptions.timeline import current_subscription
from tests.conftest import NOW
from tests.factories import make_subscription


def pay(order, amount=None, key=None, **kw):
    return record_payment(
        source="manual", amount=amount if amount is not None else order.price, received_at=NOW,
        dedup_key=key or f"doc-{order.pk}", order=order, **kw,
    )


@pytest.fixture
def current(tariffs, org):
    return make_subscription(org, tariffs["200"], NOW - timedelta(days=300), used=5_000)


def test_full_payment_fulfils_and_the_renewal_starts_after_the_current_end(current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    payment, created = pay(order)
    assert created and payment.state == PaymentState.APPLIED
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED and not order.overpaid
    renewal = order.subscription
    assert renewal.starts_at == current.ends_at
    assert current_subscription(org, NOW) == current


def test_same_bank_document_twice_credits_once(current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    pay(order)
    payment, created = pay(order)
    assert not created
    assert Payment.objects.count() == 1 and Subscription.objects.filter(order=order).count() == 1


def test_applying_the_same_payment_again_is_harmless(current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    payment, _ = pay(order)
    assert apply_payment(payment, order) == Outcome.FULFILLED
    assert Subscription.objects.filter(order=order).count() == 1


def test_a_second_payment_of_a_paid_order_is_queued_and_the_database_holds_to_it(
    current, org, owner, tariffs, order_for
):
    from django.db import IntegrityError, transaction

    order = order_for(org, owner, tariff=tariffs["200"])
    pay(order)
    second, _ = pay(order, key="doc-second")
    assert (second.state, second.queue_reason) == (PaymentState.QUEUED, QueueReason.ALREADY_PAID)
    # Whatever path tried to apply it anyway, the order keeps one applied payment.
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=second.pk).update(state=PaymentState.APPLIED)
    second.refresh_from_db()
    assert second.state == PaymentState.QUEUED


def test_underpayment_is_recorded_and_queued(current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    payment, _ = pay(order, amount=order.price - 1)
    assert (payment.state, payment.queue_reason) == (PaymentState.QUEUED, QueueReason.UNDERPAID)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert not Subscription.objects.filter(order=order).exists()


def test_overpayment_is_fulfilled_and_flagged(current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    pay(order, amount=order.price + 100)
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED and order.overpaid


def test_payment_for_a_cancelled_order_is_kept_for_staff(current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    cancel_order(order, actor=owner)
    payment, _ = pay(order)
    assert (payment.state, payment.queue_reason) == (PaymentState.QUEUED, QueueReason.ORDER_CLOSED)
    assert payment.order == order and not Subscription.objects.filter(order=order).exists()


def test_second_payment_for_a_paid_order_is_queued(current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    pay(order, key="a")
    payment, _ = pay(order, key="b")
    assert payment.queue_reason == QueueReason.ALREADY_PAID
    assert Subscription.objects.filter(order=order).count() == 1


def test_unmatched_payment_waits_for_staff_then_one_click_applies(current, org, owner, tariffs, order_for):
    order = order_for(org, owner, tariff=tariffs["200"])
    payment, _ = record_payment(source="statement", amount=order.price, received_at=NOW, dedup_key="x",
                                payer_inn=org.inn, purpose="за доступ")
    assert payment.state == PaymentState.QUEUED and payment.queue_reason == QueueReason.NO_MATCH
    assert apply_payment(payment, order) == Outcome.FULFILLED


def test_late_bank_payment_starts_at_confirmation(tariffs, org, owner, order_for, clock):
    make_subscription(org, tariffs["100"], NOW - timedelta(days=400))
    order = order_for(org, owner, kind=OrderKind.RESUME, tariff=tariffs["100"])
    clock.shift(timedelta(days=2))
    pay(order)
    order.refresh_from_db()
    assert order.subscription.starts_at == clock.now()


def test_addon_raises_the_current_limit(tariffs, org, owner, order_for):
    sub = make_subscription(org, tariffs["max"], NOW - timedelta(days=30), used=1000)
    offer = make_offer(organization=org, staff_user=None, valid_until=NOW.date(), addon_exports=20_000, price=90_000_00)
    order = order_for(org, owner, offer=offer)
    assert order.kind == OrderKind.ADDON
    pay(order)
    sub.refresh_from_db()
    assert sub.total_limit == 170_000
    assert current_period(org, NOW).limit == 170_000
    offer.refresh_from_db()
    assert offer.status == "accepted"


@pytest.mark.parametrize("amount", [0, -5])
def test_non_positive_amount_is_refused(current, org, owner, tariffs, order_for, amount):
    order = order_for(org, owner, tariff=tariffs["200"])
    with pytest.raises(ValueError):
        pay(order, amount=amount)
    assert Payment.objects.count() == 0


# --- «не наш платёж» ------------------------------------------------------------------


def _unmatched(key="bank-1"):
    payment, _ = record_payment(source="statement", amount=5_000_00, received_at=NOW, dedup_key=key,
                                payer_name="ООО Чужие", purpose="Оплата по договору 15")
    return payment


def test_reject_takes_a_queued_payment_out_of_the_queue_with_the_note(clock, owner):
    from podpiska.audit.models import AuditRecord
    from podpiska.billing.actions import reject_payment

    payment = _unmatched()
    rejected = reject_payment(payment, actor=owner, note="  Ошиблись получателем, вернули 27.11  ")
    assert rejected.state == PaymentState.REJECTED
    assert rejected.note == "Ошиблись получателем, вернули 27.11" and rejected.resolved_at == NOW
    assert Payment.objects.get(pk=payment.pk).amount == 5_000_00  # the money stays recorded
    audit = AuditRecord.objects.get(action="payment.rejected")
    assert audit.actor == owner and audit.before["state"] == "queued" and audit.after["state"] == "rejected"
    # Repeating (a double click, another note) is harmless: no second record, note kept.
    again = reject_payment(payment, actor=owner, note="другая причина")
    assert again.state == PaymentState.REJECTED and again.note == "Ошиблись получателем, вернули 27.11"
    assert AuditRecord.objects.filter(action="payment.rejected").count() == 1


@pytest.mark.parametrize("note", ["", "   ", None])
def test_reject_without_a_note_changes_nothing(clock, owner, note):
    from podpiska.audit.models import AuditRecord
    from podpiska.billing.actions import PaymentRefused, reject_payment

    payment = _unmatched()
    with pytest.raises(PaymentRefused, match="почему"):
        reject_payment(payment, actor=owner, note=note)
    payment.refresh_from_db()
    assert payment.state == PaymentState.QUEUED and payment.resolved_at is None
    assert not AuditRecord.objects.filter(action="payment.rejected").exists()


def test_an_applied_payment_cannot_be_rejected(current, org, owner, tariffs, order_for):
    from podpiska.billing.actions import PaymentRefused, reject_payment

    order = order_for(org, owner, tariff=tariffs["200"])
    payment, _ = pay(order)
    with pytest.raises(PaymentRefused, match="зачтён"):
        reject_payment(payment, actor=owner, note="не наш")
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.state == PaymentState.APPLIED and order.status == OrderStatus.FULFILLED


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_rejects_record_one_change():
    from podpiska.audit.models import AuditRecord
    from podpiska.billing.actions import reject_payment
    from podpiska.core import clock
    from tests.concurrency import run_threads
    from tests.factories import make_user

    clock.freeze(NOW)
    try:
        staff = make_user("billing@podpiska.local", is_staff=True)
        payment = _unmatched()
        results, errors = run_threads(6, lambda i: reject_payment(payment, actor=staff, note=f"чужой {i}"))
        assert not errors, errors
        assert {p.state for p in results} == {PaymentState.REJECTED}
        assert len({p.note for p in results}) == 1  # every caller sees the one rejection
        assert AuditRecord.objects.filter(action="payment.rejected").count() == 1
    finally:
        clock.reset()


def test_a_rejected_payment_is_never_applied(current, org, owner, tariffs, order_for):
    from podpiska.billing.actions import reject_payment

    order = order_for(org, owner, tariff=tariffs["200"])
    payment, _ = record_payment(source="statement", amount=order.price, received_at=NOW, dedup_key="rej")
    reject_payment(payment, actor=owner, note="возврат плательщику")
    assert apply_payment(payment, order) == Outcome.REJECTED
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_manual_confirmation_is_idempotent_and_refuses_bad_input(current, org, owner, tariffs, order_for):
    from podpiska.billing.actions import PaymentInvalid, confirm_manual_payment

    order = order_for(org, owner, tariff=tariffs["200"])
    for bad in (dict(doc_number=" "), dict(amount=0), dict(doc_date=NOW.date() + timedelta(days=1))):
        args = dict(order=order, amount=order.price, doc_number="15", doc_date=NOW.date(), actor=owner) | bad
        with pytest.raises(PaymentInvalid) as err:
            confirm_manual_payment(**args)
        assert err.value.field in {"doc_number", "amount", "doc_date"}
    assert Payment.objects.count() == 0
    first, created = confirm_manual_payment(order=order, amount=order.price, doc_number="15", doc_date=NOW.date(), actor=owner)
    again, created_again = confirm_manual_payment(order=order, amount=order.price, doc_number="15", doc_date=NOW.date(), actor=owner)
    assert created and not created_again and first.pk == again.pk
    assert first.state == PaymentState.APPLIED
