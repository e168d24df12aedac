"""Exporting a selection of companies to XLSX or CSV, paid for through the API.

The order of steps is what keeps the limit honest: ask the entitlements which fields
the organization gets, spend the rows with the form's idempotency key (a double
submit spends once), build the file, and give the rows back when the file could not
be built. The file holds exactly the columns of the organization's field set.
"""

import csv
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from podpiska.core import clock
from podpiska.core.money import group_thousands
from podpiska.demo.directory.api_client import (
    ApiError,
    FieldSetNotIncluded,
    LimitExceeded,
    PodpiskaClient,
)
from podpiska.demo.models import Company, DirectoryExport, ExportFormat

logger = logging.getLogger(__name__)

# One file at most this many rows: a bigger selection is exported in several files.
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Column:
    header: str  # in the language of the person exporting
    model_fields: tuple[str, ...]
    value: Callable[[Company], object]


# Keyed by the field names of the API's entitlements (`fields`).
COLUMNS = {
    "name": Column(gettext_lazy("Наименование"), ("name",), lambda c: c.name),
    "inn": Column(gettext_lazy("ИНН"), ("inn",), lambda c: c.inn),
    "ogrn": Column(gettext_lazy("ОГРН/ОГРНИП"), ("ogrn",), lambda c: c.ogrn),
    "kpp": Column(gettext_lazy("КПП"), ("kpp",), lambda c: c.kpp),
    "address": Column(gettext_lazy("Адрес"), ("address",), lambda c: c.address),
    "region": Column(gettext_lazy("Регион"), ("region_code",), lambda c: f"{c.region_code} {c.region_name}"),
    "okved": Column(gettext_lazy("ОКВЭД"), ("okved_code",), lambda c: f"{c.okved_code} {c.okved_name}"),
    "status": Column(gettext_lazy("Статус"), ("status",), lambda c: c.get_status_display()),
    "phones": Column(gettext_lazy("Телефоны"), ("phones",), lambda c: c.phones),
    "emails": Column("E-mail", ("emails",), lambda c: c.emails),
    "sites": Column(gettext_lazy("Сайты"), ("sites",), lambda c: c.sites),
    "revenue": Column(gettext_lazy("Выручка, руб."), ("revenue",), lambda c: c.revenue),
    "employees": Column(gettext_lazy("Численность сотрудников"), ("employees",), lambda c: c.employees),
    "director": Column(gettext_lazy("Руководитель"), ("director",), lambda c: c.director),
}

CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}


# An export that spends more than this share of what remains is confirmed first.
CONFIRM_SHARE_PERCENT = 10


def needs_confirmation(rows: int, remaining: int) -> bool:
    """Rows spent do not come back, so a large bite of the limit is asked about first.

    An export the limit cannot cover is not asked about: the API refuses it anyway.
    """
    return 0 < rows <= remaining and rows * 100 > remaining * CONFIRM_SHARE_PERCENT


def default_rows(*, on_screen: int, found: int, remaining: int | None) -> int:
    """What the export form offers: the rows on screen (or fewer found), within the limit."""
    rows = min(on_screen, found, MAX_ROWS)
    if remaining is not None:
        rows = min(rows, remaining)
    return max(rows, 1)


class ConfirmationNeeded(Exception):
    """The export would spend more than CONFIRM_SHARE_PERCENT of what remains."""

    def __init__(self, rows: int, remaining: int):
        super().__init__(rows, remaining)
        self.rows, self.remaining = rows, remaining


class ExportRefused(Exception):
    """The export did not happen; `message` says why, in Russian, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def build_xlsx(companies: Sequence[Company], fields: Sequence[str]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Компании")
    sheet.append([str(COLUMNS[name].header) for name in fields])
    for company in companies:
        # INN, OGRN and KPP stay text: leading zeros («0274…») are part of them.
        sheet.append([COLUMNS[name].value(company) for name in fields])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def build_csv(companies: Sequence[Company], fields: Sequence[str]) -> bytes:
    # UTF-8 with a BOM and «;» between fields: what Excel in a Russian locale opens as is.
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([str(COLUMNS[name].header) for name in fields])
    for company in companies:
        writer.writerow(["" if (v := COLUMNS[name].value(company)) is None else v for name in fields])
    return out.getvalue().encode("utf-8-sig")


BUILDERS = {ExportFormat.XLSX: build_xlsx, ExportFormat.CSV: build_csv}


def export_fields(entitlements: dict) -> list[str]:
    """The organization's columns, in the API's order; a field this directory does not
    have (added to a tariff later) is left out rather than made up."""
    return [name for name in entitlements.get("fields", []) if name in COLUMNS]


def limit_message(remaining: int) -> str:
    if remaining <= 0:
        return _("Лимит выгрузки исчерпан. Продлите или улучшите подписку.")
    left = group_thousands(remaining)
    return _(
        "Не хватает лимита выгрузки: осталось %(left)s. "
        "Выгрузите не больше %(left)s строк или продлите либо улучшите подписку."
    ) % {"left": left}


def _refund(client: PodpiskaClient, organization, export_id, rows: int) -> bool:
    try:
        client.refund(organization.pk, export_id, rows=rows)
    except ApiError:
        logger.exception("Refund of %s rows of export %s failed", rows, export_id)
        return False
    return True


def export_selection(
    client: PodpiskaClient,
    *,
    organization,
    user,
    companies: QuerySet,
    rows: int,
    file_format: str,
    idempotency_key: str,
    description: str = "",
    confirmed: bool = False,
) -> DirectoryExport:
    """Export the first `rows` companies of `companies` for `organization`.

    Repeating the same `idempotency_key` returns the first export and spends nothing
    again. Raises `ExportRefused` with the reason when nothing was exported, and
    `ConfirmationNeeded` (nothing spent) when the export would take more than
    CONFIRM_SHARE_PERCENT of what remains and `confirmed` is false.
    """
    done = DirectoryExport.objects.filter(organization=organization, idempotency_key=idempotency_key)
    existing = done.defer("content").first()
    if existing is not None:
        if existing.state == DirectoryExport.State.READY:
            return existing
        raise ExportRefused(_("Эта выгрузка уже не удалась, строки возвращены в лимит. Отправьте форму заново."))

    rows = min(rows, MAX_ROWS, companies.count())
    if rows <= 0:
        raise ExportRefused(_("По этим условиям компаний не найдено — выгружать нечего."))
    try:
        entitlements = client.entitlements(organization.pk)
        fields = export_fields(entitlements)
        if not confirmed and needs_confirmation(rows, entitlements["remaining"]):
            raise ConfirmationNeeded(rows, entitlements["remaining"])
        spent = client.consume(
            organization.pk, rows=rows, field_set=entitlements["field_set"],
            idempotency_key=idempotency_key,
        )
    except LimitExceeded as exc:
        raise ExportRefused(limit_message(exc.remaining)) from exc
    except FieldSetNotIncluded as exc:
        raise ExportRefused(
            _("%(reason)s Улучшите подписку, чтобы выгружать эти поля.") % {"reason": exc.message}
        ) from exc
    except ApiError as exc:
        if exc.code == "idempotency_key_reused":
            raise ExportRefused(_("Эта форма уже отправлена с другими условиями. Обновите страницу и выгрузите заново.")) from exc
        raise ExportRefused(_("Выгрузка не выполнена: %(reason)s") % {"reason": exc.message}) from exc

    export_id = str(spent["export_id"])
    record = DirectoryExport(
        organization=organization, user=user, idempotency_key=idempotency_key,
        export_id=export_id, format=file_format, field_set=entitlements["field_set"],
        query=description[:300], created_at=clock.now(),
    )
    try:
        model_fields = {f for name in fields for f in COLUMNS[name].model_fields}
        chosen = list(companies.only(*model_fields)[:rows])
        record.content = BUILDERS[file_format](chosen, fields)
    except Exception as exc:
        logger.exception("Export %s could not be built", export_id)
        refunded = _refund(client, organization, export_id, rows)
        record.state, record.rows = DirectoryExport.State.FAILED, 0
        _save(record)
        if refunded:
            raise ExportRefused(_("Не удалось сформировать файл. Списанные строки возвращены в лимит.")) from exc
        raise ExportRefused(
            _("Не удалось сформировать файл, и строки не удалось вернуть в лимит — обратитесь в поддержку.")
        ) from exc

    # Companies removed from the directory since counting are not paid for.
    if len(chosen) < rows:
        _refund(client, organization, export_id, rows - len(chosen))
    record.state, record.rows = DirectoryExport.State.READY, len(chosen)
    record.filename = f"kompanii-{clock.now().astimezone(organization.tz):%Y-%m-%d}-{len(chosen)}.{file_format}"
    return _save(record)


def _save(record: DirectoryExport) -> DirectoryExport:
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        # The same form submitted twice at once: the API spent once; keep the first file.
        return DirectoryExport.objects.defer("content").get(
            organization=record.organization, idempotency_key=record.idempotency_key
        )
    return record
