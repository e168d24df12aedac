"""Request and answer shapes of the host-product API (they make the OpenAPI schema)."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import BeforeValidator, Field, Strict

from podpiska.subscriptions.quota import MAX_ROWS

FieldSetName = Literal["basic", "extended"]


def _whole_number(value):
    # JSON Schema's "integer" includes 3.0; strings, booleans and 2.5 stay refused
    # by the strict check that follows.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Rows = Annotated[int, Strict(), Field(ge=1, le=MAX_ROWS), BeforeValidator(_whole_number)]


class Error(Schema):
    code: str = Field(description="Машиночитаемый код ошибки")
    message: str = Field(description="Сообщение для людей, по-русски")


class InvalidRequest(Error):
    errors: dict[str, str] = Field(default_factory=dict, description="Поле → что не так")


class LimitExceeded(Error):
    remaining: int = Field(description="Сколько строк ещё можно выгрузить в этом периоде")


class FieldSetNotIncluded(Error):
    field_set: FieldSetName = Field(description="Набор полей, который есть в тарифе")


class RefundTooLarge(InvalidRequest):
    refundable: int = Field(0, description="Сколько строк этой выгрузки ещё можно вернуть")


class Tariff(Schema):
    code: str
    name: str


class ExpiryWarning(Schema):
    state: Literal["none", "expiring", "awaiting_payment"]
    last_day: date | None = Field(description="Последний оплаченный день, включительно")
    pay_by_bank_transfer: date | None = Field(
        description="Последний день, чтобы успеть оплатить банковским переводом"
    )


class Entitlements(Schema):
    organization_id: int
    inn: str
    tariff: Tariff
    paid: bool = Field(description="Действует платная подписка")
    field_set: FieldSetName
    fields: list[str] = Field(description="Поля карточки компании, доступные в выгрузке")
    limit: int
    used: int
    remaining: int
    period_starts_at: datetime
    period_ends_at: datetime = Field(description="Конец периода лимита (не включая)")
    warning: ExpiryWarning


class ExportIn(Schema):
    rows: Rows = Field(description="Сколько строк выгружается")
    field_set: FieldSetName


class ExportOut(Schema):
    export_id: int
    rows: int
    field_set: FieldSetName
    limit: int
    used: int
    remaining: int


class RefundIn(Schema):
    rows: Rows = Field(description="Сколько строк не выгружено")


class RefundOut(Schema):
    export_id: int
    refunded_rows: int = Field(description="Всего возвращено по этой выгрузке")
    used: int
    remaining: int
