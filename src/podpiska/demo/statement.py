"""A bank statement for the demo: what the seller's bank would send after a good day.

Staff of the demo have no bank. `/staff/statements/demo.txt` gives them the statement the
bank would export once every open invoice has been paid by its buyer, plus one payment
nobody can match (a stranger quoting a contract), so uploading it shows the whole path:
orders fulfilled automatically, one payment in the queue, and — uploaded again — nothing
credited twice. Built with the same generator the parser's tests use.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db.models import QuerySet

from podpiska.billing.invoices import payment_purpose
from podpiska.billing.models import Invoice, OrderStatus
from podpiska.billing.statements.generator import generate_incoming_payment, generate_statement

# The stranger: a valid INN of nobody in the demo, a sum no invoice has.
STRANGER = {
    "number": "9001",
    "amount": 15_000_00,
    "purpose": "Оплата по договору № 17/3 от 01.02.2026 за информационные услуги. Без НДС",
    "payer_name": "ООО «Вектор-Снаб»",
    "payer_inn": "7700000016",
    "payer_kpp": "770001001",
}


def open_invoices() -> QuerySet[Invoice]:
    """Invoices of orders still awaiting payment, oldest first."""
    return (
        Invoice.objects.filter(order__status=OrderStatus.AWAITING_PAYMENT)
        .select_related("order")
        .order_by("pk")
    )


def demo_statement(day: date) -> bytes:
    """The statement of `day` (Windows-1251, CRLF, as banks send it); see the module."""
    seller = settings.PODPISKA_SELLER
    ours = {
        "day": day,
        "payee_account": seller["account"],
        "payee_bik": seller["bik"],
        "payee_name": seller["name"],
        "payee_inn": seller["inn"],
        "payee_kpp": seller["kpp"],
        "payee_bank": seller["bank"],
    }
    documents = [
        generate_incoming_payment(
            # The payer's own numbering; one number per invoice keeps a re-download the
            # same bank document, so importing it twice credits it once.
            number=str(invoice.pk),
            amount=invoice.total,
            purpose=payment_purpose(invoice),
            payer_name=invoice.buyer.get("name", ""),
            payer_inn=invoice.buyer.get("inn", ""),
            payer_kpp=invoice.buyer.get("kpp", ""),
            **ours,
        )
        for invoice in open_invoices()
    ]
    documents.append(generate_incoming_payment(**STRANGER, **ours))
    return generate_statement(
        documents, account=seller["account"], bank_bik=seller["bik"], date_from=day, date_to=day,
        sender="Демо-банк",
    )
