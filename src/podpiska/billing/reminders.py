"""Reminder e-mails before paid coverage ends, and before an invoice's pay-by date.

Each reminder is sent once per (organization, what it is about, offset). The
`ReminderSent` rows are inserted first, in the same transaction as the e-mails and the
events, by one `INSERT … ON CONFLICT DO NOTHING RETURNING`: the unique constraint lets
exactly one of two concurrent workers insert a row, and only what this worker inserted
is sent. So a reminder is never sent twice, and never recorded as sent without its
e-mails.

When a coverage reminder or event is due is `coverage_rule`'s to say.

The tick works on sets, and only on what may be due: `ReminderCheck` says when each
organization is next worth a look (the next offset's day, the end of its coverage), the
database marks an organization due at once when its timeline changes, and a tick
evaluates all due organizations at once: on PostgreSQL one statement a batch reads the
timelines, claims and writes the letters, webhook rows and next checks
(`reminders_sql`); elsewhere one query reads the timelines, one statement claims and
the letters and webhook rows are written in bulk. A tick with nothing due reads an
empty range of an index, whatever the number of customers.
"""

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast

from podpiska.accounts.models import Organization
from podpiska.billing import reminders_sql
from podpiska.billing.coverage_rule import (
    KIND_ENDED_EVENT,
    KIND_EXPIRING_EVENT,
    KIND_EXPIRY,
    Coverage,
    evaluate,
    reminded_memberships,
    reminder_offsets,
)
from podpiska.billing.warnings import (
    expiry_facts,
    organizations_with_pending_renewal,
)
from podpiska.core import bulk, clock
from podpiska.core.business_days import subtract_business_days
from podpiska.core.money import format_rub
from podpiska.notifications.email import queue_emails_later
from podpiska.notifications.events import publish_many
from podpiska.notifications.models import ReminderCheck, ReminderSent
from podpiska.subscriptions.timeline import local_midnight

logger = logging.getLogger(__name__)

KIND_INVOICE_DUE = "invoice_due"

# Organizations evaluated per transaction: a first run over a big customer base
# commits as it goes instead of holding one huge transaction.
CHECK_BATCH = 20_000


def invoice_reminder_business_days() -> int:
    return int(settings.PODPISKA["INVOICE_REMINDER_BUSINESS_DAYS"])


def recipients(organization) -> list[str]:
    """Owners and admins who have not turned reminders off."""
    return recipients_by_organization([organization.pk])[organization.pk]


def recipients_by_organization(organization_ids) -> dict[int, list[str]]:
    """`recipients` of many organizations with one query."""
    found: dict[int, list[str]] = {org_id: [] for org_id in organization_ids}
    rows = reminded_memberships().filter(
        organization_id__any_of=sorted(found)
    ).values_list("organization_id", "user__email")
    for org_id, email in rows:
        found[org_id].append(email)
    return {org_id: sorted(emails) for org_id, emails in found.items()}


def claim(claims: list[tuple[int, str, str, int]], now: datetime) -> set[tuple[int, str, str, int]]:
    """Insert the ReminderSent rows (organization, kind, subject key, offset); returns
    those this call inserted. The others were sent before, or are being sent by
    another worker right now: the unique constraint decides, and only once."""
    if not claims:
        return set()
    table = connection.ops.quote_name(ReminderSent._meta.db_table)
    sent_at = connection.ops.adapt_datetimefield_value(now)
    claimed: set[tuple[int, str, str, int]] = set()
    # Sorted: two workers inserting the same rows wait for each other in one order.
    rows = sorted(set(claims))
    returning = (
        "ON CONFLICT (organization_id, kind, subject_key, offset_days) DO NOTHING "
        "RETURNING organization_id, kind, subject_key, offset_days"
    )
    columns = f"INSERT INTO {table} (organization_id, kind, subject_key, offset_days, sent_at)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from podpiska.core.lookups import array_literal

            # Four arrays, each bound as one string: not four values a row adapted one by one.
            for chunk in bulk.chunks(rows, 50_000):
                cursor.execute(
                    f"{columns} SELECT o, k, s, d, %s FROM unnest(%s::bigint[], %s::text[], "
                    f"%s::text[], %s::smallint[]) AS c(o, k, s, d) ORDER BY o, k, s, d {returning}",
                    [sent_at, *(array_literal([row[i] for row in chunk]) for i in range(4))],
                )
                claimed.update(tuple(row) for row in cursor.fetchall())
            return claimed
        for chunk in bulk.chunks(rows, 1000):
            cursor.execute(
                f"{columns} VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(chunk))} {returning}",
                [value for row in chunk for value in (*row, sent_at)],
            )
            claimed.update(tuple(row) for row in cursor.fetchall())
    return claimed


def _renew_url() -> str:
    return settings.SITE_URL.rstrip("/") + "/settings/"


def expiry_context(data: dict) -> dict:
    """The expiry letter's template context, from what the tick stored with the row."""
    organization = Organization.objects.get(pk=data["organization_id"])
    end = datetime.fromisoformat(data["ends_at"])
    today = date.fromisoformat(data["today"])
    warning = expiry_facts(end, organization.tz, local_midnight(today, organization.tz))
    return {
        "organization": organization,
        "tariff_name": data["tariff_name"],
        "ends_at": end,
        "last_day": warning.last_day,
        "days_left": data["days_left"],
        "offset_days": data["offset_days"],
        "pay_by_bank_transfer": warning.pay_by_bank_transfer,
        "awaiting_payment": data["awaiting_payment"],
        "renew_url": _renew_url(),
        "today": today,
    }


def invoice_due_context(data: dict) -> dict:
    from podpiska.billing.models import Invoice

    invoice = Invoice.objects.select_related("order", "organization").get(pk=data["invoice_id"])
    return {
        "organization": invoice.organization,
        "invoice": invoice,
        "total": format_rub(invoice.total),
        "invoice_url": invoice_url(invoice),
        "today": date.fromisoformat(data["today"]),
    }


# --- coverage: expiry reminders, `subscription.expiring`, `subscription.ended` ---------


def _due_checks(now: datetime) -> list[tuple[int, int]]:
    """(organization, version) of every check that has come: a range of the `due_at`
    index, in no particular order (ordering by organization would walk every row)."""
    return sorted(
        ReminderCheck.objects.filter(due_at__lte=now).values_list("organization_id", "version")
    )


def _check_coverage(checks: list[tuple[int, int]], now: datetime, offsets: list[int]) -> int:
    """Evaluate the organizations whose check is due; returns the reminders sent.

    On PostgreSQL the database applies the rule and writes what follows from it in one
    statement (`reminders_sql`); elsewhere `evaluate` applies it here."""
    if connection.vendor == "postgresql":
        return reminders_sql.check_coverage(checks, now, offsets)
    return _send_coverage(evaluate(checks, now, offsets), now)


def _send_coverage(found: Coverage, now: datetime) -> int:
    """Claim, write the letters and webhook rows of `found`, store the next checks."""
    expiring, ended, zones = found.expiring, found.ended, found.zones
    claims = []
    for org_id, (_, key, offset, _) in expiring.items():
        claims.append((org_id, KIND_EXPIRY, key, offset))
        claims.append((org_id, KIND_EXPIRING_EVENT, key, 0))
    for org_id, subscriptions in ended.items():
        claims.extend((org_id, KIND_ENDED_EVENT, s[2].isoformat(), 0) for s in subscriptions)

    with transaction.atomic():
        claimed = claim(claims, now)
        reminded = [
            org_id for org_id, (_, key, offset, _) in expiring.items()
            if (org_id, KIND_EXPIRY, key, offset) in claimed
        ]
        _queue_expiry(reminded, expiring, zones, now)
        _publish_expiring(
            [org_id for org_id, (_, key, _, _) in expiring.items()
             if (org_id, KIND_EXPIRING_EVENT, key, 0) in claimed],
            expiring, zones, now,
        )
        publish_many(
            "subscription.ended",
            [
                (org_id, {"subscription_id": pk, "tariff_name": name, "ended_at": e.isoformat()})
                for org_id, subscriptions in ended.items()
                for pk, _, e, name in subscriptions
                if (org_id, KIND_ENDED_EVENT, e.isoformat(), 0) in claimed
            ],
        )
    _reschedule(found.schedule)
    return len(reminded)


def _queue_expiry(org_ids: list[int], expiring: dict, zones: dict, now: datetime) -> None:
    if not org_ids:
        return
    pending = organizations_with_pending_renewal(org_ids)
    people = recipients_by_organization(org_ids)
    letters = []
    for org_id in org_ids:
        end, key, offset, tariff_name = expiring[org_id]
        tz = ZoneInfo(zones[org_id])
        today = now.astimezone(tz).date()
        data = {
            "organization_id": org_id,
            "ends_at": key,
            "offset_days": offset,
            "days_left": expiry_facts(end, tz, now).days_left,
            "tariff_name": tariff_name,
            "awaiting_payment": org_id in pending,
            "today": today.isoformat(),
        }
        letters.extend(([address], data) for address in people[org_id])
    if letters:
        queue_emails_later("expiry_reminder", letters)


def _publish_expiring(org_ids: list[int], expiring: dict, zones: dict, now: datetime) -> None:
    items = []
    for org_id in org_ids:
        end, key, _, _ = expiring[org_id]
        warning = expiry_facts(end, ZoneInfo(zones[org_id]), now)
        items.append(
            (
                org_id,
                {
                    "ends_at": key,
                    "last_day": warning.last_day.isoformat(),
                    "pay_by_bank_transfer": warning.pay_by_bank_transfer.isoformat(),
                    "days_left": warning.days_left,
                },
            )
        )
    publish_many("subscription.expiring", items)


def _reschedule(schedule: list[tuple[int, int, datetime | None]]) -> None:
    """Store each organization's next check, unless its timeline changed since it was
    read (the version moved): then it stays due and the next tick looks again."""
    if not schedule:
        return
    table = connection.ops.quote_name(ReminderCheck._meta.db_table)
    if connection.vendor != "postgresql":
        for org_id, version, due_at in schedule:
            ReminderCheck.objects.filter(organization_id=org_id, version=version).update(
                due_at=due_at
            )
        return
    from podpiska.core.lookups import array_literal

    for chunk in bulk.chunks(schedule, 10_000):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS c SET due_at = v.due_at FROM ("
                "SELECT unnest(%s::bigint[]) AS organization_id, unnest(%s::bigint[]) AS version,"
                " unnest(%s::timestamptz[]) AS due_at) AS v "
                "WHERE c.organization_id = v.organization_id AND c.version = v.version",
                [
                    array_literal([org_id for org_id, _, _ in chunk]),
                    array_literal([version for _, version, _ in chunk]),
                    array_literal([due.isoformat() if due else None for _, _, due in chunk]),
                ],
            )


# --- invoices: a reminder a few business days before the pay-by date --------------------


def _latest_due_pay_by(today: date, days: int) -> date:
    """The last pay-by date whose reminder day has come by `today`."""
    latest = today
    for ahead in range(1, days * 3 + 30):
        candidate = today + timedelta(days=ahead)
        if subtract_business_days(candidate, days) <= today:
            latest = candidate
    return latest


def _send_invoice_reminders(now: datetime) -> int:
    """An invoice still unpaid a few business days before its pay-by date."""
    from podpiska.billing.models import Invoice, OrderStatus

    days = invoice_reminder_business_days()
    # Local dates: a day either side of UTC's covers every time zone; the exact day of
    # each organization is checked below.
    utc_today = now.astimezone(UTC).date()
    first, last = utc_today - timedelta(days=1), _latest_due_pay_by(utc_today + timedelta(days=1), days)
    already = ReminderSent.objects.filter(
        organization_id=OuterRef("organization_id"), kind=KIND_INVOICE_DUE,
        subject_key=Cast(OuterRef("pk"), CharField()), offset_days=days,
    )
    candidates = (
        Invoice.objects.filter(order__status=OrderStatus.AWAITING_PAYMENT, pay_by__range=(first, last))
        .exclude(Exists(already))
        .values_list("pk", "organization_id", "pay_by", "organization__timezone", "organization__email")
    )
    due = {}
    for invoice_id, org_id, pay_by, zone, email in candidates:
        today = now.astimezone(ZoneInfo(zone)).date()
        if subtract_business_days(pay_by, days) <= today <= pay_by:
            due[invoice_id] = (org_id, today, email)
    if not due:
        return 0
    with transaction.atomic():
        claimed = claim(
            [(org_id, KIND_INVOICE_DUE, str(pk), days) for pk, (org_id, _, _) in due.items()], now
        )
        sent = [pk for pk, (org_id, _, _) in due.items()
                if (org_id, KIND_INVOICE_DUE, str(pk), days) in claimed]
        people = recipients_by_organization({due[pk][0] for pk in sent})
        letters = []
        for pk in sorted(sent):
            org_id, today, email = due[pk]
            addresses = set(people[org_id]) | ({email.lower()} if email else set())
            data = {"organization_id": org_id, "invoice_id": pk, "today": today.isoformat()}
            letters.extend(([address], data) for address in sorted(addresses))
        if letters:
            queue_emails_later("invoice_due", letters)
    return len(sent)


def invoice_url(invoice) -> str:
    from django.urls import reverse

    return settings.SITE_URL.rstrip("/") + reverse("billing:invoice", args=[invoice.pk])


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every reminder that is due; returns how many reminders (not e-mails) went."""
    now = now or clock.now()
    offsets = reminder_offsets()
    sent = 0
    for checks in bulk.chunks(_due_checks(now), CHECK_BATCH):
        sent += _check_coverage(checks, now, offsets)
    return sent + _send_invoice_reminders(now)
