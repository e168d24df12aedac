"""The coverage step of the tick on PostgreSQL: one statement a batch of due checks.

`coverage_rule.evaluate` states the rule in Python (SQLite runs it). Turning ten thousand
organizations' rows into objects and the outcome back into rows cost a busy tick most of
its time, so on PostgreSQL the database applies the same rule to every due organization
at once and writes what follows from it in the same statement; no row passes through
Python:

1. the timelines of the due organizations: the end of each unbroken coverage (the rule
   of `timeline.chain_end`, as a running maximum over the periods in order of start),
   its last day and today in the organization's time zone (`AT TIME ZONE`), the offset
   due (`coverage_rule.due_offset`), the next check (`coverage_rule.next_check`), the
   subscriptions that ended with nothing after them;
2. the claims, by `INSERT … ON CONFLICT DO NOTHING RETURNING` in one order, as
   `reminders.claim` makes them: the unique constraint lets one worker insert each
   claim, and only the rows this statement inserted go on;
3. from the claimed rows only: the letters (`email.queue_emails_later_sql`), the webhook
   rows (`webhooks.enqueue_sql`), then the next checks, unless the version moved.

What the rule reads from elsewhere comes from its one place: who gets reminders
(`coverage_rule.reminded_memberships`) and which renewal awaits payment
(`warnings.pending_renewals`), as their querysets' SQL; the last day to pay by bank
transfer (`warnings.last_day_to_pay_by_transfer`, the production calendar) for each
last day a due reminder can have. tests/notifications/test_reminders_sql_pg.py applies
`evaluate` and this statement to the same timelines and fails on any difference.
"""

from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F

from podpiska.accounts.models import Organization
from podpiska.billing import coverage_rule as rule
from podpiska.billing.warnings import last_day_to_pay_by_transfer, pending_renewals
from podpiska.core.bulk import json_object, query_sql
from podpiska.core.lookups import array_literal
from podpiska.notifications import email, webhooks
from podpiska.notifications.models import ReminderCheck, ReminderSent
from podpiska.subscriptions.models import Subscription

EXPIRING = "subscription.expiring"
ENDED = "subscription.ended"


def _isoformat(instant: str) -> str:
    """`datetime.isoformat()` of an instant read in UTC, as the claims' keys and the
    events' data write it: no fraction of a second when it is zero."""
    return (
        f"replace(to_char({instant} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
        "'.000000', '') || '+00:00'"
    )


def _iso_date(day: str) -> str:
    return f"to_char({day}, 'YYYY-MM-DD')"


def _local_midnight(day: str, as_postgres: str, zone: str) -> str:
    """`timeline.local_midnight` of the date `day` in `zone`, given `as_postgres`, what
    PostgreSQL makes of it (`day::timestamp AT TIME ZONE zone`). Where clocks are put back
    at midnight, midnight comes twice: Python takes the first, PostgreSQL the second. The
    offset in force a day before is the first one's, when it gives midnight back."""
    naive = f"({day})::timestamp"
    day_before = f"({as_postgres} - interval '24 hours')"
    first = (
        f"(({naive} - ({day_before} AT TIME ZONE {zone} - {day_before} AT TIME ZONE 'UTC')) "
        "AT TIME ZONE 'UTC')"
    )
    return f"CASE WHEN {first} AT TIME ZONE {zone} = {naive} THEN {first} ELSE {as_postgres} END"


def _due_offset(days_left: str, offsets: list[int]) -> str:
    """`coverage_rule.due_offset` given the days from today to the last day: the smallest
    offset that is not less, while the coverage lasts."""
    whens = " ".join(f"WHEN {days_left} <= {int(days)} THEN {int(days)}" for days in sorted(offsets))
    return f"CASE WHEN {days_left} < 0 THEN NULL {whens} END"


def _next_offset_day(final_day: str, days_left: str, offsets: list[int]) -> str:
    """The first offset's day after today (of the largest offset below the days left),
    where `coverage_rule.next_check` looks next; NULL when none is left."""
    whens = " ".join(
        f"WHEN {days_left} > {int(days)} THEN {final_day} - {int(days)}"
        for days in sorted(offsets, reverse=True)
    )
    return f"CASE {whens} END" if offsets else "NULL::date"


def evaluation(checks: list[tuple[int, int]], now: datetime, offsets: list[int]) -> tuple[str, dict]:
    """The CTEs `evaluated` (one row a due organization: version, INN, today, end of
    coverage and its key, tariff in force, last day, offset due, next check) and `ended`
    (the subscriptions that ended with nothing after them), and their parameters."""
    quote = connection.ops.quote_name
    organizations = quote(Organization._meta.db_table)
    subscriptions = quote(Subscription._meta.db_table)
    sql = f"""
    checks AS (
        SELECT * FROM unnest(%(organizations)s::bigint[], %(versions)s::bigint[])
            AS c(organization_id, version)
    ),
    organizations AS (
        SELECT c.organization_id, c.version, o.inn, o.timezone AS zone,
               (%(now)s AT TIME ZONE o.timezone)::date AS today
        FROM checks c JOIN {organizations} o ON o.id = c.organization_id
    ),
    recent AS MATERIALIZED (
        SELECT s.organization_id, s.id, s.starts_at, s.ends_at, s.tariff_name
        FROM {subscriptions} s
        WHERE s.organization_id IN (SELECT organization_id FROM checks)
          AND s.ends_at > %(now)s - %(lookback)s::interval
    ),
    reaching AS (
        -- Each period lasting beyond now, with how far the ones before it reach: the
        -- first that starts beyond that opens a gap, and the coverage ends there.
        SELECT organization_id, id, starts_at, ends_at, tariff_name,
               max(ends_at) OVER (PARTITION BY organization_id ORDER BY starts_at, id
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
        FROM recent WHERE ends_at > %(now)s
    ),
    coverage AS (
        SELECT organization_id,
               CASE WHEN min(starts_at) <= %(now)s
                    THEN coalesce(min(reach) FILTER (WHERE starts_at > reach), max(ends_at))
               END AS ends_at,
               min(starts_at) FILTER (WHERE starts_at > %(now)s) AS next_start,
               -- In force now: the one period that started (they never overlap).
               coalesce(min(tariff_name) FILTER (WHERE starts_at <= %(now)s), '') AS tariff_name
        FROM reaching GROUP BY organization_id
    ),
    -- Each stage is materialized: a column used many times below is worked out once.
    dated AS MATERIALIZED (
        SELECT o.*, v.ends_at, v.next_start, v.tariff_name,
               ((v.ends_at - interval '1 microsecond') AT TIME ZONE o.zone)::date AS last_day
        FROM organizations o LEFT JOIN coverage v USING (organization_id)
    ),
    counted AS MATERIALIZED (
        SELECT *, last_day - today AS days_left,
               {_next_offset_day("last_day", "(last_day - today)", offsets)} AS next_day
        FROM dated
    ),
    placed AS MATERIALIZED (
        SELECT *, next_day::timestamp AT TIME ZONE zone AS next_midnight FROM counted
    ),
    evaluated AS MATERIALIZED (
        SELECT organization_id, version, inn, today, ends_at, tariff_name, last_day,
               {_isoformat("ends_at")} AS subject_key,
               {_due_offset("days_left", offsets)} AS offset_days,
               CASE WHEN ends_at IS NULL THEN next_start
                    ELSE LEAST(ends_at, {_local_midnight("next_day", "next_midnight", "zone")})
               END AS next_check
        FROM placed
    ),
    ended AS (
        SELECT r.organization_id, o.inn, r.id, r.tariff_name, {_isoformat("r.ends_at")} AS subject_key
        FROM recent r JOIN organizations o USING (organization_id)
        WHERE r.ends_at <= %(now)s AND NOT EXISTS (
            SELECT FROM recent p WHERE p.organization_id = r.organization_id
              AND p.starts_at <= r.ends_at AND r.ends_at < p.ends_at)
    )"""
    return sql, {
        "organizations": array_literal([org_id for org_id, _ in checks]),
        "versions": array_literal([version for _, version in checks]),
        "now": now,
        # In seconds: a lookback of days means as many 24 hours, whatever the session's
        # time zone would make of «days».
        "lookback": f"{int(rule.ENDED_EVENT_LOOKBACK.total_seconds())} seconds",
    }


def evaluate(checks: list[tuple[int, int]], now: datetime, offsets: list[int]) -> rule.Coverage:
    """What `evaluation` finds, read back as `coverage_rule.evaluate` returns it (for the
    tests that hold the two to one rule)."""
    sql, params = evaluation(checks, now, offsets)
    found = rule.Coverage({}, {}, {}, [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {sql} SELECT e.organization_id, e.version, o.timezone, e.ends_at, e.subject_key, "
            "e.offset_days, e.tariff_name, e.next_check FROM evaluated e "
            f"JOIN {connection.ops.quote_name(Organization._meta.db_table)} o ON o.id = e.organization_id",
            params,
        )
        for org_id, version, zone, end, key, offset, tariff_name, next_check in cursor.fetchall():
            found.zones[org_id] = zone
            found.schedule.append((org_id, version, next_check))
            found.ended[org_id] = []
            if offset is not None:
                found.expiring[org_id] = (end, key, offset, tariff_name)
        cursor.execute(
            f"WITH {sql} SELECT n.organization_id, s.id, s.starts_at, s.ends_at, s.tariff_name "
            f"FROM ended n JOIN {connection.ops.quote_name(Subscription._meta.db_table)} s ON s.id = n.id "
            "ORDER BY s.organization_id, s.starts_at",
            params,
        )
        for org_id, *subscription in cursor.fetchall():
            found.ended[org_id].append(tuple(subscription))
    return found


def _pay_by_calendar(now: datetime, offsets: list[int]) -> tuple[list[str], list[str]]:
    """The last day to pay by bank transfer for every last day a due reminder can have:
    from today to the largest offset ahead, today taken a day either side of UTC's."""
    first = now.astimezone(UTC).date() - timedelta(days=1)
    days = [first + timedelta(days=n) for n in range(max(offsets, default=0) + 3)]
    return [day.isoformat() for day in days], [last_day_to_pay_by_transfer(day).isoformat() for day in days]


def statement(checks: list[tuple[int, int]], now: datetime, offsets: list[int]) -> tuple[str, dict]:
    """The statement of one batch and its parameters; it returns the reminders claimed
    and the ids of the letters written."""
    evaluated, params = evaluation(checks, now, offsets)
    quote = connection.ops.quote_name
    claims = quote(ReminderSent._meta.db_table)
    checks_table = quote(ReminderCheck._meta.db_table)
    recipients = query_sql(
        rule.reminded_memberships().order_by().values("organization_id", address=F("user__email"))
    )
    awaiting = query_sql(pending_renewals().order_by().values("organization_id"))
    letters, letter_params = email.queue_emails_later_sql(
        f"""claimed c JOIN evaluated e USING (organization_id)
            JOIN ({recipients}) r USING (organization_id)
            WHERE c.kind = '{rule.KIND_EXPIRY}' AND btrim(r.address) <> ''
            ORDER BY c.organization_id, r.address COLLATE "C"
        """,
        template="expiry_reminder",
        address="r.address",
        data={
            "organization_id": "e.organization_id",
            "ends_at": "e.subject_key",
            "offset_days": "e.offset_days",
            "days_left": "e.last_day - e.today",
            "tariff_name": "e.tariff_name",
            "awaiting_payment": f"e.organization_id IN (SELECT organization_id FROM ({awaiting}) a)",
            "today": _iso_date("e.today"),
        },
    )
    expiring = json_object({
        "ends_at": "e.subject_key",
        "last_day": _iso_date("e.last_day"),
        "pay_by_bank_transfer": "p.pay_by",
        "days_left": "e.last_day - e.today",
    })
    ended = json_object(
        {"subscription_id": "n.id", "tariff_name": "n.tariff_name", "ended_at": "n.subject_key"}
    )
    deliveries, delivery_params = webhooks.enqueue_sql(
        "deliveries",
        f"""(SELECT e.organization_id, e.inn, '{EXPIRING}' AS event, {expiring} AS data
             FROM claimed c JOIN evaluated e USING (organization_id)
             LEFT JOIN pay_by p ON p.last_day = e.last_day
             WHERE c.kind = '{rule.KIND_EXPIRING_EVENT}'
             UNION ALL
             SELECT n.organization_id, n.inn, '{ENDED}', {ended}
             FROM claimed c JOIN ended n USING (organization_id, subject_key)
             WHERE c.kind = '{rule.KIND_ENDED_EVENT}') AS published""",
        webhooks.takers([EXPIRING, ENDED]),
    )
    days, pay_by = _pay_by_calendar(now, offsets)
    sql = f"""
    WITH {evaluated},
    pay_by AS (
        SELECT * FROM unnest(%(calendar_days)s::date[], %(calendar_pay_by)s::text[]) AS p(last_day, pay_by)
    ),
    wanted AS (
        SELECT organization_id, '{rule.KIND_EXPIRY}' AS kind, subject_key, offset_days
        FROM evaluated WHERE offset_days IS NOT NULL
        UNION ALL
        SELECT organization_id, '{rule.KIND_EXPIRING_EVENT}', subject_key, 0
        FROM evaluated WHERE offset_days IS NOT NULL
        UNION ALL
        SELECT organization_id, '{rule.KIND_ENDED_EVENT}', subject_key, 0 FROM ended
    ),
    claimed AS (
        -- In one order: two workers inserting the same claims wait for each other in it.
        INSERT INTO {claims} (organization_id, kind, subject_key, offset_days, sent_at)
        SELECT organization_id, kind, subject_key, offset_days, %(now)s FROM wanted
        ORDER BY organization_id, kind COLLATE "C", subject_key COLLATE "C", offset_days
        ON CONFLICT (organization_id, kind, subject_key, offset_days) DO NOTHING
        RETURNING organization_id, kind, subject_key
    ),
    letters AS ({letters}),
    {deliveries},
    rescheduled AS (
        -- Unless the timeline changed since it was read (the version moved): then the
        -- check stays due and the next tick reads the new timeline.
        UPDATE {checks_table} AS rc SET due_at = e.next_check FROM evaluated e
        WHERE rc.organization_id = e.organization_id AND rc.version = e.version
    )
    -- The claims, read first, are all made before any check row is locked (the update,
    -- read by nothing, runs when the rest is done): every worker takes its locks in
    -- that order, so two workers never wait for each other in a circle.
    SELECT (SELECT count(*) FROM claimed WHERE kind = '{rule.KIND_EXPIRY}'),
           (SELECT coalesce(array_agg(id), '{{}}') FROM letters),
           (SELECT count(*) FROM deliveries)"""
    return sql, {
        **params,
        **letter_params,
        **delivery_params,
        "calendar_days": array_literal(days),
        "calendar_pay_by": array_literal(pay_by),
    }


def check_coverage(checks: list[tuple[int, int]], now: datetime, offsets: list[int]) -> int:
    """`reminders._check_coverage` on PostgreSQL; returns the reminders sent."""
    sql, params = statement(checks, now, offsets)
    with transaction.atomic(), connection.cursor() as cursor:
        # The statement is big enough for the planner to compile it to machine code
        # (JIT), which takes seconds to spare milliseconds: not for this statement.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        reminded, letter_ids, _ = cursor.fetchone()
        email.send_when_committed(letter_ids)
    return reminded
