"""The export limit of the current period and what has been used of it.

Paid tariffs count per subscription term (or per calendar month when the tariff says
so); the free tariff counts per calendar month: its first-export allowance
(`Tariff.first_period_limit`, 50) for every month until the organization's first
export, then `export_limit` (20) a month. Periods are rows of `QuotaPeriod`.

Consumption is modelled on Sentry's quotas: check and count in one step (a conditional
UPDATE on the period row), refund explicitly. Each consumption is an `ExportRecord`
kept with its outcome and answer, and the unique (organization, idempotency_key) makes a
repeated request return the first answer, also when the repeats race each other.

Results and refusals are the domain's (`Spent`, `OverLimit`, `FieldSetMissing`,
`QuotaRequestError` with a code); which HTTP status each becomes is decided in `api/`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from podpiska.audit.changes import audited_update
from podpiska.audit.log import record
from podpiska.catalog.models import FieldSet, LimitReset, Tariff, field_set_covers
from podpiska.core import limits
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
    force at `at` that counts per term, with its organization. None otherwise (the
    free tariff, monthly limits, a period not created yet): `current_period` decides.

    The row is the one `period_spec` names — it starts when its subscription starts
    and belongs to it — so no rule is computed here, only looked up.
    """
    return (
        QuotaPeriod.objects.select_related("organization")
        .filter(
            organization_id=organization_id,
            subscription__starts_at__lte=at,
            subscription__ends_at__gt=at,
            subscription__limit_reset=LimitReset.TERM,
            starts_at=F("subscription__starts_at"),
            ends_at=F("subscription__ends_at"),
        )
        .first()
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
        ExportRecord.objects.filter(organization=organization, idempotency_key=idempotency_key),
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
    )


def _consume_once(
    organization, rows, field_set, idempotency_key, actor_label, at, period=None
) -> ConsumeResult:
    # `period`: the caller already found it with `term_period_in_force`.
    period = period or current_period(organization, at)
    accepted = False
    if not field_set_covers(period.field_set, field_set):
        outcome = ExportOutcome.FIELD_SET_MISSING
        body = {
            "code": "field_set_not_included",
            "message": _("Набор полей «%(wanted)s» не входит в тариф организации; доступен «%(have)s».")
            % {"wanted": FieldSet(field_set).label, "have": FieldSet(period.field_set).label},
            "field_set": period.field_set,
        }
    else:
        accepted, used, limit = _spend(period.pk, rows)
        if accepted:
            outcome = ExportOutcome.SPENT
            body = {"rows": rows, "field_set": field_set, "limit": limit, "used": used,
                    "remaining": max(limit - used, 0)}
        else:
            outcome = ExportOutcome.OVER_LIMIT
            remaining = max(limit - used, 0)
            body = {
                "code": "limit_exceeded",
                "message": _("Лимит выгрузки исчерпан: запрошено %(asked)s, осталось %(left)s.")
                % {"asked": _rows_phrase(rows), "left": _rows_phrase(remaining)},
                "remaining": remaining,
            }
    export = ExportRecord.objects.create(
        organization=organization,
        period=period,
        idempotency_key=idempotency_key,
        rows=rows,
        field_set=field_set,
        accepted=accepted,
        outcome=outcome,
        response_body=body,
        actor_label=actor_label[:200],
        created_at=at,
    )
    return _result(export)


def _spend(period_id: int, rows: int) -> tuple[bool, int, int]:
    """Check and count in one statement; (accepted, used, limit) after it.

    The row lock the UPDATE takes serialises concurrent exports of one organization,
    and PostgreSQL re-checks the condition on the row as it is after the wait, so the
    sum spent never passes the limit. `used <= limit - rows` cannot overflow.
    """
    table = connection.ops.quote_name(QuotaPeriod._meta.db_table)
    limit_column = connection.ops.quote_name("limit")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET used = used + %s WHERE id = %s AND used <= {limit_column} - %s "
            f"RETURNING used, {limit_column}",
            [rows, period_id, rows],
        )
        row = cursor.fetchone()
        if row is not None:
            return True, row[0], row[1]
        cursor.execute(f"SELECT used, {limit_column} FROM {table} WHERE id = %s", [period_id])
        used, limit = cursor.fetchone()
        return False, used, limit


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
