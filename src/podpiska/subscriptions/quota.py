"""The export limit of the current period and what has been used of it.

Paid tariffs count per subscription term (or per calendar month when the tariff says
so); the free tariff counts per calendar month: its first-export allowance
(`Tariff.first_period_limit`, 50) for every month until the organization's first
export, then `export_limit` (20) a month. Periods are rows of `QuotaPeriod`.

Consumption is modelled on Sentry's quotas: check and count in one step (a conditional
UPDATE on the period row), refund explicitly. Each consumption is an `ExportRecord`
kept with its outcome and answer, and the unique (organization, idempotency_key) makes a
repeated request return the first answer, also when the repeats race each other. On
PostgreSQL a spending and its record are one statement (`_spend_and_record`); the API
finds the period of a paid term in the statement that checks its key
(`term_period_sql`). Both are hand-written SQL, prepared per connection (`core.raw`).

Results and refusals are the domain's (`Spent`, `OverLimit`, `FieldSetMissing`,
`QuotaRequestError` with a code); which HTTP status each becomes is decided in `api/`.
"""

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from podpiska.accounts.models import Organization
from podpiska.audit.changes import audited_update
from podpiska.audit.log import record
from podpiska.catalog.models import FieldSet, LimitReset, Tariff, field_set_covers
from podpiska.core import limits, raw
from podpiska.core.money import group_thousands, ru_plural
from podpiska.notifications.events import publish
from podpiska.subscriptions.idempotency import at_most_once
from podpiska.subscriptions.models import ExportOutcome, ExportRecord, QuotaPeriod, Subscription
from podpiska.subscriptions.timeline import add_months, current_subscription, local_midnight

# One export of more than a billion rows is a client bug, never a real request.
MAX_ROWS = limits.MAX_COUNT
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True)
class PeriodSpec:
    starts_at: datetime
    ends_at: datetime
    limit: int
    field_set: str
    subscription: Subscription | None
    tariff_name: str
    tariff_code: str = ""


def free_tariff() -> Tariff | None:
    return Tariff.objects.filter(is_free=True).order_by("rank").first()


def _month_bounds(at: datetime, tz) -> tuple[datetime, datetime]:
    local = at.astimezone(tz).date().replace(day=1)
    return local_midnight(local, tz), local_midnight(add_months(local, 1), tz)


def period_spec(organization, at: datetime) -> PeriodSpec:
    """Which limit period `at` falls in, and its limit."""
    tz = organization.tz
    subscription = current_subscription(organization, at)
    if subscription is not None:
        if subscription.limit_reset == LimitReset.MONTH:
            starts, ends = _month_bounds(at, tz)
            starts, ends = max(starts, subscription.starts_at), min(ends, subscription.ends_at)
            # An add-on is a one-off: it raises the month it was bought in (see
            # add_extra_exports), not every month of the term.
            limit = subscription.export_limit
        else:
            starts, ends = subscription.starts_at, subscription.ends_at
            limit = subscription.total_limit
        return PeriodSpec(
            starts, ends, limit, subscription.field_set, subscription,
            subscription.tariff_name, subscription.tariff.code,
        )
    tariff = free_tariff()
    starts, ends = _month_bounds(at, tz)
    # A free month can be cut short by a paid subscription starting in it.
    next_paid = (
        Subscription.objects.filter(organization=organization, starts_at__gt=at)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    if next_paid and next_paid < ends:
        ends = next_paid
    previous_paid_end = (
        Subscription.objects.filter(organization=organization, ends_at__lte=at, ends_at__gt=starts)
        .order_by("-ends_at")
        .values_list("ends_at", flat=True)
        .first()
    )
    if previous_paid_end:
        starts = previous_paid_end
    if tariff is None:
        # No free tariff in the catalog: nothing may be exported without paying.
        return PeriodSpec(starts, ends, 0, FieldSet.BASIC, None, _("Без тарифа"), "")
    limit = tariff.export_limit
    if tariff.first_period_limit is not None and not has_ever_exported(organization, before=starts):
        limit = tariff.first_period_limit
    return PeriodSpec(starts, ends, limit, tariff.field_set, None, tariff.name, tariff.code)


def has_ever_exported(organization, before: datetime) -> bool:
    return QuotaPeriod.objects.filter(
        organization=organization, starts_at__lt=before, used__gt=0
    ).exists()


def term_period_in_force(organization_id: int, at: datetime) -> QuotaPeriod | None:
    """The common case read with one query: the period row of a paid subscription in
    force at `at` that counts per term, with its organization (only its id loaded). None
    otherwise (the free tariff, monthly limits, a period not created yet):
    `current_period` decides.

    The row is the one `period_spec` names — it starts when its subscription starts
    and belongs to it — so no rule is computed here, only looked up. Written in SQL:
    every export asks it, and building the query would cost more than running it (the
    API reads it in the statement that checks the key: `term_period_sql`).
    """
    with raw.cursor() as cursor:
        cursor.execute(term_period_sql(), term_period_params(organization_id, at))
        row = cursor.fetchone()
    return term_period_from(row)


def term_period_params(organization_id: int, at: datetime) -> dict:
    """The named parameters of `term_period_sql`."""
    return {
        "organization_id": organization_id,
        "at": connection.ops.adapt_datetimefield_value(at),
        "term": LimitReset.TERM.value,
    }


def term_period_from(values) -> QuotaPeriod | None:
    """The period of a `term_period_sql` row (None for no row, or a joined one of NULLs)."""
    if values is None or values[0] is None:
        return None
    period = raw.instance(QuotaPeriod, values[: raw.width(QuotaPeriod)])
    # Spending needs nothing of the organization but its id; any other field loads
    # on first use, as with `.only("id")`.
    period.organization = Organization.from_db(connection.alias, ["id"], [period.organization_id])
    return period


@functools.cache
def term_period_sql() -> str:
    """`term_period_in_force` as a SELECT, to run or to join (its row is read back by
    `term_period_from`)."""
    quote = connection.ops.quote_name
    period, subscription = (quote(model._meta.db_table) for model in (QuotaPeriod, Subscription))
    # Found from the organization's own periods (its index by start), latest first: the
    # subscription's bounds equal the period's, so `at` falls in the period too.
    return (
        f"SELECT {raw.columns(QuotaPeriod, 'p')} FROM {period} p "
        f"JOIN {subscription} s ON s.id = p.subscription_id "
        "WHERE p.organization_id = %(organization_id)s "
        "AND p.starts_at <= %(at)s AND p.ends_at > %(at)s "
        "AND s.limit_reset = %(term)s AND s.starts_at = p.starts_at AND s.ends_at = p.ends_at "
        "ORDER BY p.starts_at DESC LIMIT 1"
    )


def current_period(organization, at: datetime) -> QuotaPeriod:
    """The period row for `at`, created on first use (safe under concurrency)."""
    spec = period_spec(organization, at)
    period = QuotaPeriod.objects.filter(organization=organization, starts_at=spec.starts_at).first()
    if period is not None:
        if period.ends_at != spec.ends_at:
            # A paid subscription bought mid-month ends the free month early.
            QuotaPeriod.objects.filter(pk=period.pk).update(ends_at=spec.ends_at)
            period.ends_at = spec.ends_at
        return period
    try:
        with transaction.atomic():
            return QuotaPeriod.objects.create(
                organization=organization,
                subscription=spec.subscription,
                starts_at=spec.starts_at,
                ends_at=spec.ends_at,
                limit=spec.limit,
                field_set=spec.field_set,
            )
    except IntegrityError:
        # Another request created it first; use theirs.
        return QuotaPeriod.objects.get(organization=organization, starts_at=spec.starts_at)


def period_usage(organization, at: datetime) -> tuple[PeriodSpec, int, int]:
    """The period in force, its limit and what is used of it (read-only: the period row
    is created by the first export, not by looking)."""
    spec = period_spec(organization, at)
    row = (
        QuotaPeriod.objects.filter(organization=organization, starts_at=spec.starts_at)
        .values_list("limit", "used")
        .first()
    )
    limit, used = row if row else (spec.limit, 0)
    return spec, limit, used


def used_during(subscription: Subscription) -> int:
    """Exports used over a subscription so far (all its periods)."""
    return sum(
        QuotaPeriod.objects.filter(subscription=subscription).values_list("used", flat=True)
    )


@transaction.atomic
def add_extra_exports(subscription: Subscription, extra: int, *, actor=None, at: datetime) -> None:
    """An add-on: raise the subscription's limit and that of its period in force."""
    if extra <= 0:
        raise ValueError("extra exports must be positive")
    before = subscription.extra_exports
    organization = subscription.organization
    in_force = subscription.starts_at <= at < subscription.ends_at
    if in_force:
        # The row must exist before the raise, or a term period created later would
        # count the add-on twice (once in total_limit, once here).
        current_period(organization, at)
    Subscription.objects.filter(pk=subscription.pk).update(extra_exports=F("extra_exports") + extra)
    QuotaPeriod.objects.filter(subscription=subscription, starts_at__lte=at, ends_at__gt=at).update(
        limit=F("limit") + extra
    )
    subscription.refresh_from_db()
    record(
        "subscription.extra_exports_added",
        subscription,
        actor=actor,
        before={"extra_exports": before},
        after={"extra_exports": subscription.extra_exports},
    )
    _spec, limit, used = period_usage(organization, at)
    publish(
        "limit.changed",
        organization=organization,
        data={
            "subscription_id": subscription.pk,
            "added": extra,
            "limit": limit,
            "used": used,
            "remaining": max(limit - used, 0),
        },
    )


# --- Consumption by the host product ----------------------------------------------------


class QuotaRequestError(Exception):
    """A request the quota cannot take as asked; nothing was spent.

    `code` is machine-readable (the API maps it to a status), the message is for
    people (Russian), `extra` goes into the error body.
    """

    def __init__(self, code: str, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra or {}


@dataclass(frozen=True, kw_only=True)
class _Result:
    """What a consumption came to, kept as its ExportRecord; `body` is the answer
    stored with it, so a replay answers word for word as the first time."""

    outcome: ClassVar[str]
    reason: ClassVar[str]
    export: ExportRecord
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.export.accepted

    @property
    def body(self) -> dict:
        return self.export.response_body


@dataclass(frozen=True, kw_only=True)
class Spent(_Result):
    outcome: ClassVar[str] = ExportOutcome.SPENT
    reason: ClassVar[str] = "spent"
    limit: int
    used: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def body(self) -> dict:
        # export_id is added when answering: one write fewer while the period row is locked.
        return {"export_id": self.export.pk, **self.export.response_body}


@dataclass(frozen=True, kw_only=True)
class OverLimit(_Result):
    outcome: ClassVar[str] = ExportOutcome.OVER_LIMIT
    reason: ClassVar[str] = "limit_exceeded"
    remaining: int


@dataclass(frozen=True, kw_only=True)
class FieldSetMissing(_Result):
    outcome: ClassVar[str] = ExportOutcome.FIELD_SET_MISSING
    reason: ClassVar[str] = "field_set_not_included"
    available: str  # the field set the tariff has


ConsumeResult = Spent | OverLimit | FieldSetMissing


def _rows_error(rows) -> str | None:
    if isinstance(rows, bool) or not isinstance(rows, int):
        return _("Количество строк должно быть целым числом.")
    if rows < 1:
        return _("Количество строк должно быть не меньше 1.")
    if rows > MAX_ROWS:
        return _("Количество строк не может быть больше %(max)s.") % {"max": group_thousands(MAX_ROWS)}
    return None


def _check_request(rows, field_set, idempotency_key) -> None:
    errors = {}
    if message := _rows_error(rows):
        errors["rows"] = message
    if field_set not in FieldSet.values:
        errors["field_set"] = _("Набор полей должен быть «basic» или «extended».")
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        errors["idempotency_key"] = _("Нужен заголовок Idempotency-Key.")
    elif len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        errors["idempotency_key"] = _("Idempotency-Key длиннее %(max)d символов.") % {"max": MAX_IDEMPOTENCY_KEY}
    if errors:
        raise QuotaRequestError(
            "invalid_request", " ".join(errors.values()), extra={"errors": errors}
        )


def _reused(existing: ExportRecord) -> QuotaRequestError:
    return QuotaRequestError(
        "idempotency_key_reused",
        _("Этот Idempotency-Key уже использован для другой выгрузки (строк: %(rows)d, набор полей: %(field_set)s).")
        % {"rows": existing.rows, "field_set": existing.field_set},
    )


def _rows_phrase(n: int) -> str:
    return f"{group_thousands(n)} {ru_plural(n, 'строка', 'строки', 'строк')}"


def consume(
    organization, *, rows: int, field_set: str, idempotency_key: str, actor_label: str, at: datetime,
    period: QuotaPeriod | None = None,
) -> ConsumeResult:
    """Spend `rows` of the organization's current limit, whole or not at all.

    Comes to `Spent`, `OverLimit` (with what remains) or `FieldSetMissing` (the field
    set is not in the tariff); each is kept, and the same key returns it again (marked
    `replayed`) without spending. Raises QuotaRequestError for a malformed request or a
    key reused with different parameters.
    """
    _check_request(rows, field_set, idempotency_key)
    return at_most_once(
        ExportRecord, {"organization": organization, "idempotency_key": idempotency_key},
        {"rows": rows, "field_set": field_set},
        act=lambda: _consume_once(
            organization, rows, field_set, idempotency_key, actor_label, at, period
        ),
        replay=lambda existing: _result(existing, replayed=True),
        refuse=_reused,
        # No look-up beforehand: repeats are rare, and the unique constraint refusing our
        # record (and rolling back our spending with it) is what is right under
        # concurrency anyway.
        look_first=False,
        # Each write of `_consume_once` stands alone: the spending with its record in one
        # statement (`_spend_and_record`), or a refusal's record alone.
        atomic=False,
    )


def _consume_once(
    organization, rows, field_set, idempotency_key, actor_label, at, period=None
) -> ConsumeResult:
    # `period`: the caller already found it with `term_period_in_force`.
    period = period or current_period(organization, at)
    record = {
        "organization": organization, "period": period, "idempotency_key": idempotency_key,
        "rows": rows, "field_set": field_set, "actor_label": actor_label[:200], "created_at": at,
    }
    if not field_set_covers(period.field_set, field_set):
        return _result(_record(record, ExportOutcome.FIELD_SET_MISSING, {
            "code": "field_set_not_included",
            "message": _("Набор полей «%(wanted)s» не входит в тариф организации; доступен «%(have)s».")
            % {"wanted": FieldSet(field_set).label, "have": FieldSet(period.field_set).label},
            "field_set": period.field_set,
        }))
    if (export := _spend_and_record(record)) is not None:
        return _result(export)
    used, limit = _usage(period.pk)
    remaining = max(limit - used, 0)
    return _result(_record(record, ExportOutcome.OVER_LIMIT, {
        "code": "limit_exceeded",
        "message": _("Лимит выгрузки исчерпан: запрошено %(asked)s, осталось %(left)s.")
        % {"asked": _rows_phrase(rows), "left": _rows_phrase(remaining)},
        "remaining": remaining,
    }))


def _record(record: dict, outcome: str, body: dict) -> ExportRecord:
    """A consumption that spent nothing, kept with its answer (one INSERT)."""
    return ExportRecord.objects.create(**record, accepted=False, outcome=outcome, response_body=body)


def _spent_body(rows: int, field_set: str, limit: int, used: int) -> dict:
    return {"rows": rows, "field_set": field_set, "limit": limit, "used": used,
            "remaining": max(limit - used, 0)}


def _spend_and_record(record: dict) -> ExportRecord | None:
    """Check and count, and keep the record of it, as one; None when the period has not
    the record's rows left (nothing is written then).

    The row lock the UPDATE takes serialises concurrent exports of one organization,
    and PostgreSQL re-checks the condition on the row as it is after the wait, so the
    sum spent never passes the limit. `used <= limit - rows` cannot overflow. A record
    refused by the unique idempotency key takes the spending back with it.

    On PostgreSQL both are one statement, which in autocommit is a transaction of its
    own: the period row is locked only while the server runs it and commits, never
    across a round trip to this process (with many clients on one organization that
    wait is what they queue on). Elsewhere (SQLite) they are two in a transaction.
    """
    rows, period_id = record["rows"], record["period"].pk
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor:
            cursor.execute(_spend_and_record_sql(), {
                "rows": rows, "period_id": period_id, "organization_id": record["organization"].pk,
                "idempotency_key": record["idempotency_key"], "field_set": record["field_set"],
                "outcome": ExportOutcome.SPENT.value, "actor_label": record["actor_label"],
                "created_at": record["created_at"],
            })
            found = cursor.fetchone()
        if found is None:
            return None
        export_id, body = found
        # The answer is the body as stored, so that a replay answers the same.
        export = ExportRecord(
            id=export_id, **record, accepted=True, outcome=ExportOutcome.SPENT,
            response_body=json.loads(body),
        )
        export._state.adding, export._state.db = False, connection.alias  # it is the stored row
        return export
    table = connection.ops.quote_name(QuotaPeriod._meta.db_table)
    limit_column = connection.ops.quote_name("limit")
    # No savepoint of its own inside the caller's transaction (`at_most_once` takes one).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET used = used + %s WHERE id = %s AND used <= {limit_column} - %s "
            f"RETURNING used, {limit_column}",
            [rows, period_id, rows],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        used, limit = row
        return ExportRecord.objects.create(
            **record, accepted=True, outcome=ExportOutcome.SPENT,
            response_body=_spent_body(rows, record["field_set"], limit, used),
        )


@functools.cache
def _spend_and_record_sql() -> str:
    """The conditional UPDATE and the INSERT of its record in one PostgreSQL statement;
    the stored body is `_spent_body`'s, built by the server from what the UPDATE returns."""
    quote = connection.ops.quote_name
    export = ExportRecord._meta
    columns = ", ".join(quote(export.get_field(name).column) for name in (
        "organization", "period", "idempotency_key", "rows", "refunded_rows", "field_set",
        "accepted", "outcome", "response_body", "actor_label", "created_at",
    ))
    return f"""WITH spent AS (
    UPDATE {quote(QuotaPeriod._meta.db_table)} SET used = used + %(rows)s
    WHERE id = %(period_id)s AND used <= "limit" - %(rows)s
    RETURNING used, "limit"
)
INSERT INTO {quote(export.db_table)} ({columns})
SELECT %(organization_id)s, %(period_id)s, %(idempotency_key)s, %(rows)s, 0, %(field_set)s, true,
    %(outcome)s,
    jsonb_build_object(
        'rows', %(rows)s::integer, 'field_set', %(field_set)s::varchar,
        'limit', "limit", 'used', used, 'remaining', greatest("limit" - used, 0)
    ),
    %(actor_label)s, %(created_at)s
FROM spent
RETURNING id, response_body::text"""


def _usage(period_id: int) -> tuple[int, int]:
    """(used, limit) of the period as committed now (after a refused spending)."""
    table = connection.ops.quote_name(QuotaPeriod._meta.db_table)
    with raw.cursor() as cursor:
        cursor.execute(f'SELECT used, "limit" FROM {table} WHERE id = %s', [period_id])
        return cursor.fetchone()


def _result(export: ExportRecord, replayed: bool = False) -> ConsumeResult:
    """The result an ExportRecord stands for, the same for the first answer and a replay."""
    body = export.response_body
    if export.outcome == ExportOutcome.SPENT:
        return Spent(export=export, replayed=replayed, limit=body["limit"], used=body["used"])
    if export.outcome == ExportOutcome.OVER_LIMIT:
        return OverLimit(export=export, replayed=replayed, remaining=body["remaining"])
    return FieldSetMissing(export=export, replayed=replayed, available=body["field_set"])


@dataclass(frozen=True)
class RefundResult:
    export: ExportRecord
    period: QuotaPeriod

    @property
    def body(self) -> dict:
        return {
            "export_id": self.export.pk,
            "refunded_rows": self.export.refunded_rows,
            "used": self.period.used,
            "remaining": self.period.remaining,
        }


def refund(organization, *, export_id: int, rows: int, actor_label: str, at: datetime) -> RefundResult:
    """Give back `rows` of an accepted export that were not delivered.

    The rows return to the period they were taken from. At most what the export spent
    and was not refunded yet can come back, so a retried refund never gives back
    twice; `refunded_rows` in the answer is the export's total refunded so far.
    """
    if message := _rows_error(rows):
        raise QuotaRequestError("invalid_request", message, extra={"errors": {"rows": message}})
    with transaction.atomic():
        export = (
            ExportRecord.objects.select_for_update()
            .filter(organization=organization, pk=export_id, accepted=True)
            .first()
        )
        if export is None:
            raise QuotaRequestError("export_not_found", _("Выгрузка не найдена."))
        refundable = export.rows - export.refunded_rows
        if rows > refundable:
            raise QuotaRequestError(
                "refund_exceeds_export",
                _("Вернуть можно не больше %(left)s: выгрузка списала %(spent)s, уже возвращено %(back)s.")
                % {
                    "left": _rows_phrase(refundable),
                    "spent": _rows_phrase(export.rows),
                    "back": _rows_phrase(export.refunded_rows),
                },
                extra={"refundable": refundable},
            )
        audited_update(export, "export.refunded", actor_label,
                       refunded_rows=export.refunded_rows + rows)
        QuotaPeriod.objects.filter(pk=export.period_id).update(used=F("used") - rows)
        period = QuotaPeriod.objects.get(pk=export.period_id)
    return RefundResult(export, period)
