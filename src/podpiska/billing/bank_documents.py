"""When two payment records are one bank document — one rule for both directions.

A payment order reaches us twice: from the bank's notice (staff confirm it by hand) and
in the statement. Whichever comes second must be recognised as the same document, not
credited again nor queued as «заказ уже оплачен»: same order, same date, same number
(however the bank pads it with zeros) and same amount. The importer applies this rule
to statement lines against payments entered by hand; the manual form and
`confirm_manual_payment` apply it to a hand entry against everything recorded.

The number's padding is undone by `document_number` in Python (the importer's keys and
rows in memory) and by `DocumentNumber` in the database (lookups, and the condition of
the INSERT that records a hand entry); a test holds the two to agree.
"""

from datetime import date

from django.db.models import CharField, F, Func, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from podpiska.billing.models import Payment, PaymentSource, PaymentState

# What `str.strip()` strips (every character `isspace()`; none lies above U+3000): the
# database's `DocumentNumber` strips the same, so both forms of the rule agree.
_WHITESPACE = "".join(char for char in map(chr, range(0x3001)) if char.isspace())


def document_number(number: str) -> str:
    """A payment order's number as compared: banks differ in padding it with zeros."""
    return number.strip().lstrip("0") or "0"


class DocumentNumber(Coalesce):
    """`document_number` of a column, worked out by the database (PostgreSQL and SQLite
    alike), so that a lookup by a document's identity is one query, or a condition of
    the INSERT that records a payment (`recorded`). A test holds it to the Python form."""

    def __init__(self, column: str):
        stripped = Func(F(column), Value(_WHITESPACE), function="TRIM", output_field=CharField())
        unpadded = Func(stripped, Value("0"), function="LTRIM", output_field=CharField())
        super().__init__(NullIf(unpadded, Value("")), Value("0"), output_field=CharField())


def identity(order_id: int | None, day: date | None, number: str, amount: int) -> tuple:
    return (order_id, day, document_number(number), amount)


def recorded(order_id: int, day: date, number: str, amount: int) -> QuerySet:
    """The payments recorded for this document and order, by any source (`identity`,
    compared by the database), first recorded first."""
    return (
        Payment.objects.alias(number=DocumentNumber("doc_number"))
        .filter(order_id=order_id, doc_date=day, amount=amount, number=document_number(number))
        .order_by("pk")
    )


def recorded_for_order(order, day: date, number: str, amount: int) -> Payment | None:
    """The payment already recorded for this document and `order`, by any source."""
    return recorded(order.pk, day, number, amount).first()


def unmatched_statement_copy(day: date, number: str, amount: int) -> Payment | None:
    """A statement line with this date, number and amount waiting in the queue with no
    order: the same document, to be matched there rather than entered again."""
    return (
        Payment.objects.alias(number=DocumentNumber("doc_number"))
        .filter(
            source=PaymentSource.STATEMENT, state=PaymentState.QUEUED, order__isnull=True,
            doc_date=day, amount=amount, number=document_number(number),
        )
        .order_by("pk")
        .first()
    )
