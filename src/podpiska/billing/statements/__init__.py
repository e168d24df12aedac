"""Bank statements in the 1CClientBankExchange format: parsing and generation."""

from podpiska.billing.statements.generator import (
    format_amount,
    generate_incoming_payment,
    generate_statement,
)
from podpiska.billing.statements.parser import (
    AccountSection,
    Document,
    Statement,
    StatementError,
    floor_pass,
    parse_amount,
    parse_date,
    parse_statement,
)

__all__ = [
    "AccountSection",
    "Document",
    "Statement",
    "StatementError",
    "floor_pass",
    "format_amount",
    "generate_incoming_payment",
    "generate_statement",
    "parse_amount",
    "parse_date",
    "parse_statement",
]
