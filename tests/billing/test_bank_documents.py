"""A payment order's number compared in Python and by the database: one rule, two forms."""

from datetime import UTC, datetime

import pytest

from podpiska.billing.bank_documents import DocumentNumber, document_number
from podpiska.billing.models import Payment, PaymentSource, PaymentState
from podpiska.core import bulk

# Padding with zeros and whitespace of every kind `str.strip()` knows, inside and around.
NUMBERS = [
    "512", "000512", " 512 ", "\t0512\r\n", "\xa00512\u3000", "\x1f512\x0b", "\u2007 00512",
    "0", "000", "", "   ", "5 12", "0 12", "05120", "№ 512", "٥١٢", "0\xa00",
]


@pytest.mark.django_db
def test_the_database_undoes_the_padding_as_document_number_does():
    at = datetime(2026, 11, 27, tzinfo=UTC)
    bulk.insert(Payment, [
        {"source": PaymentSource.STATEMENT, "state": PaymentState.QUEUED, "amount": 100,
         "received_at": at, "created_at": at, "dedup_key": f"k{i}", "doc_number": number}
        for i, number in enumerate(NUMBERS)
    ])
    compared = dict(
        Payment.objects.annotate(compared=DocumentNumber("doc_number"))
        .values_list("doc_number", "compared")
    )
    assert compared == {number: document_number(number) for number in NUMBERS}
