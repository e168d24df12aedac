"""What the back-office shows: read-only figures built from the domain functions."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from podpiska.accounts.models import Organization
from podpiska.audit.models import AuditRecord
from podpiska.billing.models import (
    ClosingDocument,
    Invoice,
    Order,
    OrderStatus,
    Payment,
    PaymentState,
)
from podpiska.billing.warnings import expiry_warnings
from podpiska.notifications.models import EmailMessage, WebhookDelivery
from podpiska.subscriptions import quota
from podpiska.subscriptions.models import QuotaPeriod
from podpiska.subscriptions.selectors import fetch_paid_timeline
from podpiska.subscriptions.timeline import last_day, status_of
from podpiska.support.models import LimitIncreaseRequest, RequestStatus, SupportRequest

OPEN_REQUEST_STATUSES = [RequestStatus.OPEN, RequestStatus.IN_PROGRESS]


@dataclass(frozen=True)
class EndingSoon:
    organization: Organization
    tariff_name: str
    last_day: date
    days_left: int
    pay_by_bank_transfer: date
    awaiting_payment: bool


def ending_soon(at: datetime) -> list[EndingSoon]:
    """The organizations whose expiry warning shows (paid coverage ending within the
    warning's window, no paid renewal), soonest first: the customers' own warning."""
    return [
        EndingSoon(
            organization=subscription.organization,
            tariff_name=subscription.tariff_name,
            last_day=warning.last_day,
            days_left=warning.days_left,
            pay_by_bank_transfer=warning.pay_by_bank_transfer,
            awaiting_payment=warning.awaiting_payment,
        )
        for subscription, warning in expiry_warnings(at)
    ]


def revenue_by_month(months: int = 12) -> list[dict]:
    """Applied payments by calendar month (seller's time zone), newest first."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return list(
        Payment.objects.filter(state=PaymentState.APPLIED)
        .annotate(month=TruncMonth("received_at", tzinfo=tz))
        .values("month")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("-month")[:months]
    )


def dashboard(at: datetime) -> dict:
    # With the invoice: staff and customers speak of an order by its invoice number.
    awaiting = Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT).select_related("organization", "invoice")
    return {
        "ending_soon": ending_soon(at),
        "awaiting_orders": awaiting.order_by("pay_by", "created_at")[:20],
        "awaiting_count": awaiting.count(),
        "queued_payments": Payment.objects.filter(state=PaymentState.QUEUED).count(),
        "open_support": SupportRequest.objects.filter(status__in=OPEN_REQUEST_STATUSES).count(),
        "open_limit_requests": LimitIncreaseRequest.objects.filter(status__in=OPEN_REQUEST_STATUSES).count(),
        "revenue": revenue_by_month(),
        "failed_emails": EmailMessage.objects.filter(status=EmailMessage.Status.FAILED).count(),
        "pending_emails": EmailMessage.objects.filter(status=EmailMessage.Status.PENDING).count(),
        "failed_webhooks": WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count(),
    }


def organization_overview(organization: Organization, at: datetime) -> dict:
    """Everything about one organization on one page."""
    subscriptions = [
        (subscription, status_of(subscription, at), last_day(subscription.ends_at, organization.tz))
        for subscription in organization.subscriptions.order_by("starts_at")
    ]
    timeline = fetch_paid_timeline(organization, at)
    period, limit, used = quota.period_usage(organization, at)
    end = timeline.coverage_end
    return {
        "organization": organization,
        "members": organization.memberships.select_related("user").order_by("role", "user__email"),
        "subscriptions": subscriptions,
        "current": timeline.current,
        "coverage_last_day": last_day(end, organization.tz) if end else None,
        "usage": {
            "tariff_name": period.tariff_name,
            "limit": limit,
            "used": used,
            "starts_at": period.starts_at,
            "last_day": last_day(period.ends_at, organization.tz),
            "field_set": period.field_set,
        },
        "periods": QuotaPeriod.objects.filter(organization=organization).order_by("-starts_at")[:12],
        "orders": Order.objects.filter(organization=organization).select_related("invoice")[:50],
        "invoices": Invoice.objects.filter(organization=organization)[:50],
        "closing_documents": ClosingDocument.objects.filter(organization=organization)
        .order_by("-issued_on", "-year", "-number")[:50],
        "payments": Payment.objects.filter(organization=organization).select_related("order")[:50],
        "offers": organization.offers.order_by("-created_at")[:50],
        "support_requests": organization.support_requests.order_by("-created_at")[:20],
        "limit_requests": organization.limit_requests.order_by("-created_at")[:20],
        "audit": AuditRecord.objects.filter(organization=organization).order_by("-at", "-id")[:100],
    }


# A statement's report lists this many credited invoices and queued payments each; a
# year's statement (100 000 payments) is summed up in counts, the rest is in the admin.
STATEMENT_LIST_LIMIT = 200


def statement_outcome(statement_import_id: int | None) -> dict:
    """Which invoices a statement import credited and which of its payments wait in the queue."""
    if statement_import_id is None:
        return {"credited": [], "credited_more": 0, "queued": [], "queued_more": 0}
    payments = Payment.objects.filter(statement_id=statement_import_id).order_by("id")
    credited = payments.filter(state=PaymentState.APPLIED).select_related("organization", "order__invoice")
    queued = payments.filter(state=PaymentState.QUEUED).select_related("organization")
    credited_rows = list(credited[:STATEMENT_LIST_LIMIT])
    queued_rows = list(queued[:STATEMENT_LIST_LIMIT])
    return {
        "credited": credited_rows,
        "credited_more": credited.count() - len(credited_rows) if len(credited_rows) == STATEMENT_LIST_LIMIT else 0,
        "queued": queued_rows,
        "queued_more": queued.count() - len(queued_rows) if len(queued_rows) == STATEMENT_LIST_LIMIT else 0,
    }
