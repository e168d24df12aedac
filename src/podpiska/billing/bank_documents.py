"""When two payment records are one bank document — one rule for both directions.

A payment order reaches us twice: from the bank's notice (staff confirm it by hand) and
in the statement. Whichever comes second must be recognised as the same document, not
credited again nor queued as «заказ уже оплачен»: same order, same date, same number
(however the bank pads it with zeros) and same amount. The importer applies this rule
to statement lines against payments entered by hand; the manual form and
`confirm_manual_payment` apply it to a hand entry against everything recorded.
"""

from datetime import date

from podpiska.billing.models import Payment, PaymentSource, PaymentState


def document_number(number: str) -> str:
    """A payment order's number as compared: banks differ in padding it with zeros."""
    return number.strip().lstrip("0") or "0"


def identity(order_id: int | None, day: date | None, number: str, amount: int) -> tuple:
    return (order_id, day, document_number(number), amount)


def recorded_for_order(order, day: date, number: str, amount: int) -> Payment | None:
    """The payment already recorded for this document and `order`, by any source."""
    wanted = identity(order.pk, day, number, amount)
    for payment in Payment.objects.filter(order=order, doc_date=day, amount=amount).order_by("pk"):
        if identity(payment.order_id, payment.doc_date, payment.doc_number, payment.amount) == wanted:
            return payment
    return None


def unmatched_statement_copy(day: date, number: str, amount: int) -> Payment | None:
    """A statement line with this date, number and amount waiting in the queue with no
    order: the same document, to be matched there rather than entered again."""
    wanted = identity(None, day, number, amount)
    candidates = Payment.objects.filter(
        source=PaymentSource.STATEMENT, state=PaymentState.QUEUED, order__isnull=True,
        doc_date=day, amount=amount,
    ).order_by("pk")
    for payment in candidates:
        if identity(None, payment.doc_date, payment.doc_number, payment.amount) == wanted:
            return payment
    return None
