"""Reminder e-mails before paid coverage ends, and before an invoice's pay-by date.

Each reminder is sent once per (organization, what it is about, offset). The
`ReminderSent` row is inserted first, in the same transaction as the e-mails and the
event: the unique constraint lets exactly one of two concurrent workers insert it, the
other gets an IntegrityError and skips. So a reminder is never sent twice, and never
recorded as sent without its e-mails.

A reminder is due from its day (in the organization's time zone) until the end. A
worker that was down catches up with only the most recent due offset: two days before
the end it sends the 7-day reminder, never the stale 30-day one too.
"""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from podpiska.accounts.models import Membership
from podpiska.billing.warnings import has_pending_renewal, last_day_to_pay_by_transfer
from podpiska.core import clock
from podpiska.core.business_days import subtract_business_days
from podpiska.core.money import format_rub
from podpiska.notifications.email import queue_email
from podpiska.notifications.events import publish
from podpiska.notifications.models import ReminderSent
from podpiska.subscriptions.models import Subscription
from podpiska.subscriptions.timeline import coverage_end, current_subscription, last_day

logger = logging.getLogger(__name__)

KIND_EXPIRY = "expiry"
KIND_EXPIRING_EVENT = "event.expiring"
KIND_ENDED_EVENT = "event.ended"
KIND_INVOICE_DUE = "invoice_due"

# How far back an ended coverage still gets its `subscription.ended` event, so a worker
# that was down for a while catches up but a first run does not replay history.
ENDED_EVENT_LOOKBACK = timedelta(days=7)


def reminder_offsets() -> list[int]:
    """Days before the last covered day, largest first (0 = on the last day)."""
    return sorted({int(days) for days in settings.PODPISKA["REMINDER_OFFSETS"]}, reverse=True)


def invoice_reminder_business_days() -> int:
    return int(settings.PODPISKA["INVOICE_REMINDER_BUSINESS_DAYS"])


def due_offset(final_day: date, today: date, offsets: list[int]) -> int | None:
    """The most recent offset whose day has come, while coverage lasts; else None."""
    if today > final_day:
        return None
    due = [days for days in offsets if final_day - timedelta(days=days) <= today]
    return min(due) if due else None


def recipients(organization) -> list[str]:
    """Owners and admins who have not turned reminders off."""
    return sorted(
        Membership.objects.managers().filter(
            organization=organization,
            user__is_active=True,
            user__reminders_enabled=True,
        ).values_list("user__email", flat=True)
    )


def _claim(organization, kind: str, subject_key: str, offset_days: int, now: datetime) -> bool:
    """Insert the ReminderSent row; False when it exists (sent before or by another worker)."""
    try:
        with transaction.atomic():
            ReminderSent.objects.create(
                organization=organization, kind=kind, subject_key=subject_key,
                offset_days=offset_days, sent_at=now,
            )
    except IntegrityError:
        return False
    return True


def _renew_url() -> str:
    return settings.SITE_URL.rstrip("/") + "/settings/"


def _expiry_context(organization, end: datetime, offset_days: int, now: datetime) -> dict:
    tz = organization.tz
    final_day = last_day(end, tz)
    subscription = current_subscription(organization, now)
    return {
        "organization": organization,
        "tariff_name": subscription.tariff_name if subscription else "",
        "ends_at": end,
        "last_day": final_day,
        "days_left": (final_day - now.astimezone(tz).date()).days,
        "offset_days": offset_days,
        "pay_by_bank_transfer": last_day_to_pay_by_transfer(final_day),
        "awaiting_payment": has_pending_renewal(organization),
        "renew_url": _renew_url(),
        "today": now.astimezone(tz).date(),
    }


def _expiry_candidates(now: datetime, horizon: timedelta) -> list[int]:
    """Organizations whose current subscription ends within the horizon.

    Coverage can only end later than the current subscription, so this cheap filter
    keeps every organization whose coverage might end in time.
    """
    return list(
        Subscription.objects.filter(starts_at__lte=now, ends_at__gt=now, ends_at__lte=now + horizon)
        .values_list("organization_id", flat=True)
        .distinct()
    )


def _send_expiry_reminder(organization, now: datetime, offsets: list[int]) -> bool:
    end = coverage_end(organization, now)
    if end is None:
        return False
    tz = organization.tz
    final_day = last_day(end, tz)
    offset = due_offset(final_day, now.astimezone(tz).date(), offsets)
    if offset is None:
        return False
    subject_key = end.isoformat()
    with transaction.atomic():
        if not _claim(organization, KIND_EXPIRY, subject_key, offset, now):
            return False
        context = _expiry_context(organization, end, offset, now)
        for address in recipients(organization):
            queue_email([address], "expiry_reminder", context)
        if _claim(organization, KIND_EXPIRING_EVENT, subject_key, 0, now):
            publish(
                "subscription.expiring",
                organization=organization,
                data={
                    "ends_at": end.isoformat(),
                    "last_day": final_day.isoformat(),
                    "pay_by_bank_transfer": context["pay_by_bank_transfer"].isoformat(),
                    "days_left": context["days_left"],
                },
            )
    return True


def _publish_ended(now: datetime) -> int:
    """`subscription.ended` once per coverage that ended without a paid continuation."""
    published = 0
    ended = Subscription.objects.filter(
        ends_at__lte=now, ends_at__gt=now - ENDED_EVENT_LOOKBACK
    ).select_related("organization")
    for subscription in ended:
        organization = subscription.organization
        # A subscription that continues the coverage means it did not end here.
        if Subscription.objects.filter(
            organization=organization,
            starts_at__lte=subscription.ends_at,
            ends_at__gt=subscription.ends_at,
        ).exists():
            continue
        with transaction.atomic():
            if not _claim(organization, KIND_ENDED_EVENT, subscription.ends_at.isoformat(), 0, now):
                continue
            publish(
                "subscription.ended",
                organization=organization,
                data={
                    "subscription_id": subscription.pk,
                    "tariff_name": subscription.tariff_name,
                    "ended_at": subscription.ends_at.isoformat(),
                },
            )
            published += 1
    return published


def _send_invoice_reminders(now: datetime) -> int:
    """An invoice still unpaid a few business days before its pay-by date."""
    from podpiska.billing.models import Invoice, OrderStatus

    days = invoice_reminder_business_days()
    sent = 0
    # Pay-by dates are local dates; a day's margin either side covers every time zone.
    window = (now + timedelta(days=-1)).date(), (now + timedelta(days=days * 2 + 10)).date()
    invoices = Invoice.objects.filter(
        order__status=OrderStatus.AWAITING_PAYMENT, pay_by__range=window
    ).select_related("order", "organization")
    for invoice in invoices:
        organization = invoice.organization
        today = now.astimezone(organization.tz).date()
        if not subtract_business_days(invoice.pay_by, days) <= today <= invoice.pay_by:
            continue
        with transaction.atomic():
            if not _claim(organization, KIND_INVOICE_DUE, str(invoice.pk), days, now):
                continue
            context = {
                "organization": organization,
                "invoice": invoice,
                "total": format_rub(invoice.total),
                "invoice_url": invoice_url(invoice),
                "today": today,
            }
            addresses = recipients(organization)
            if organization.email:
                addresses.append(organization.email)
            for address in sorted(set(addresses)):
                queue_email([address], "invoice_due", context)
        sent += 1
    return sent


def invoice_url(invoice) -> str:
    from django.urls import reverse

    return settings.SITE_URL.rstrip("/") + reverse("billing:invoice", args=[invoice.pk])


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every reminder that is due; returns how many reminders (not e-mails) went."""
    now = now or clock.now()
    offsets = reminder_offsets()
    sent = 0
    if offsets:
        from podpiska.accounts.models import Organization

        horizon = timedelta(days=max(offsets) + 2)
        for organization in Organization.objects.filter(pk__in=_expiry_candidates(now, horizon)):
            try:
                if _send_expiry_reminder(organization, now, offsets):
                    sent += 1
            except Exception:
                logger.exception("expiry reminder for organization %s failed", organization.pk)
    sent += _send_invoice_reminders(now)
    _publish_ended(now)
    return sent
