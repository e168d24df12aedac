"""Online payment (SPEC §5): start an attempt at the configured provider, settle what it reports.

The customer UI calls `start_online_payment` and sends the customer to the URL it
returns. Money is recorded only from a status the provider gave us when we asked
(`refresh_online_payment`), never from a redirect or a notification body; the record
is keyed by the provider's payment id, so any number of refreshes credit it once.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from podpiska.audit.changes import ALL, audited_update
from podpiska.billing.actions import record_payment
from podpiska.billing.models import (
    OnlinePayment,
    OnlinePaymentStatus,
    Order,
    PaymentSource,
    QueueReason,
)
from podpiska.billing.providers.base import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    BaseProvider,
    NotificationResult,
    ProviderError,
    ProviderPayment,
)
from podpiska.billing.providers.sandbox import SandboxProvider
from podpiska.billing.providers.yookassa import YooKassaProvider
from podpiska.core import clock
from podpiska.core.demo_database import is_demo_database

logger = logging.getLogger(__name__)

PROVIDERS: dict[str, type[BaseProvider]] = {
    SandboxProvider.name: SandboxProvider,
    YooKassaProvider.name: YooKassaProvider,
}


def sandbox_allowed() -> bool:
    """The sandbox "pays" without money, so it never runs where orders are real.

    Allowed with DEBUG (a developer's machine), or when it is the configured provider
    in an environment whose clock may be moved (the demo and the tests). Production
    settings allow neither, so even the default provider name `sandbox` cannot fulfil
    an order there: online payment is simply unavailable until YooKassa is configured.
    Demo settings pointed at a real database by mistake are refused too: the database
    must carry the marker `podpiska demo` writes (`core.demo_database`).
    """
    podpiska = settings.PODPISKA
    configured = settings.DEBUG or (
        podpiska["ONLINE_PROVIDER"] == SandboxProvider.name and bool(podpiska.get("ALLOW_TEST_CLOCK"))
    )
    # And never against a database `podpiska demo` did not make, whatever the settings.
    return configured and is_demo_database()


def get_provider(name: str | None = None) -> BaseProvider:
    """The provider called `name`, or the configured one (PODPISKA["ONLINE_PROVIDER"])."""
    name = name or settings.PODPISKA["ONLINE_PROVIDER"]
    provider_class = PROVIDERS.get(name)
    if provider_class is None or (provider_class is SandboxProvider and not sandbox_allowed()):
        raise ProviderError(_("Онлайн-оплата сейчас недоступна. Оплатите, пожалуйста, по счёту."))
    return provider_class()


def start_online_payment(order: Order, *, return_url: str) -> str:
    """The provider's page where the customer pays `order`; `return_url` is where they end up.

    A repeated call reuses the order's open attempt; an attempt the customer abandoned
    or the provider cancelled is replaced by a new one with a new Idempotence-Key.
    Raises ProviderError (provider unreachable or not configured) and OrderRefused (the
    order is no longer awaiting payment), both with a message for the customer.
    """
    provider = get_provider()
    open_attempts = order.online_payments.filter(provider=provider.name, status__in=OPEN_STATUSES)
    for attempt in open_attempts.exclude(external_id=""):
        refresh_online_payment(attempt)
    attempt = provider.create_payment(order, return_url=return_url)
    return attempt.confirmation_url


def refresh_online_payment(online_payment: OnlinePayment) -> OnlinePayment:
    """Ask the provider where the attempt stands and act on its answer only.

    Succeeded → the payment is recorded and applied (fulfilling the order); canceled →
    the attempt is closed and the order keeps waiting for payment.
    """
    remote = get_provider(online_payment.provider).fetch_status(online_payment)
    return settle(online_payment, remote)


def receive_notification(provider_name: str, request) -> NotificationResult:
    """A provider's callback: checked by the provider, then the payment is re-fetched.

    A failed re-fetch answers 503, so the provider delivers the notification again.
    """
    result = get_provider(provider_name).handle_notification(request)
    if result.online_payment is None:
        return result
    try:
        refresh_online_payment(result.online_payment)
    except ProviderError:
        return NotificationResult(503, "could not fetch the payment; deliver again")
    return result


def refresh_pending_online_payments(
    at: datetime,
    *,
    settle_after: timedelta = timedelta(minutes=10),
    give_up_after: timedelta = timedelta(days=2),
) -> int:
    """Re-fetch attempts still open after `settle_after`: the backstop for a notification
    that never came and a customer who never returned. For `podpiska tick`.

    Returns how many attempts changed status; a provider that fails is retried next time.
    """
    changed = 0
    stale = OnlinePayment.objects.filter(
        status__in=OPEN_STATUSES,
        created_at__lte=at - settle_after,
        created_at__gte=at - give_up_after,
    ).exclude(external_id="")
    for attempt in stale.order_by("created_at"):
        try:
            refreshed = refresh_online_payment(attempt)
        except ProviderError as exc:
            logger.warning("online payment %s: refresh failed: %s", attempt.pk, exc)
            continue
        changed += refreshed.status != attempt.status
    return changed


@transaction.atomic
def settle(online_payment: OnlinePayment, remote: ProviderPayment) -> OnlinePayment:
    """Store the provider's status of the attempt; record the money once it succeeded."""
    attempt = (
        OnlinePayment.objects.select_for_update()
        .select_related("order__organization")
        .get(pk=online_payment.pk)
    )
    status = remote.status
    if status not in OnlinePaymentStatus.values:
        logger.warning("online payment %s: unknown provider status %r", attempt.pk, status)
        status = attempt.status
    if attempt.status in FINAL_STATUSES:
        status = attempt.status
    if status != attempt.status:
        audited_update(attempt, f"online_payment.{status}", None, recorded=ALL,
                       status=status, raw=remote.raw)
    if (
        attempt.status == OnlinePaymentStatus.SUCCEEDED
        and remote.status == OnlinePaymentStatus.SUCCEEDED
    ):
        record_online_money(attempt, remote)
    return attempt


def mismatch(attempt: OnlinePayment, remote: ProviderPayment) -> str:
    """Why the provider's payment does not belong to the attempt's order ('' if it does)."""
    order = attempt.order
    if remote.metadata.get("order_id") != str(order.pk):
        return f"в платеже указан заказ {remote.metadata.get('order_id')!r}, ожидался {order.pk}"
    if remote.metadata.get("online_payment_id") != str(attempt.pk):
        return f"в платеже указана попытка {remote.metadata.get('online_payment_id')!r}, ожидалась {attempt.pk}"
    if remote.amount != attempt.amount:
        return f"сумма платежа {remote.amount} коп., ожидалось {attempt.amount} коп."
    return ""


def record_online_money(attempt: OnlinePayment, remote: ProviderPayment) -> None:
    """Record the succeeded payment: applied to the order, or queued for staff when it
    does not match the order — never lost, never credited twice (dedup by payment id)."""
    if not remote.amount:
        logger.error(
            "online payment %s succeeded without a rouble amount: %r", attempt.pk, remote.raw
        )
        return
    order = attempt.order
    requisites = order.requisites or {}
    fields = dict(
        source=PaymentSource.ONLINE,
        amount=remote.amount,
        received_at=remote.captured_at or clock.now(),
        dedup_key=f"{attempt.provider}:{attempt.external_id}",
        provider=attempt.provider,
        provider_payment_id=attempt.external_id,
        payer_name=requisites.get("name", "")[:500],
        payer_inn=requisites.get("inn", "")[:12],
        purpose=str(remote.raw.get("description", "")),
    )
    problem = mismatch(attempt, remote)
    if not problem:
        record_payment(order=order, **fields)
        return
    logger.error("online payment %s does not match its order: %s", attempt.pk, problem)
    record_payment(
        organization=order.organization,
        queue_reason=QueueReason.NO_MATCH,
        suggestions=[{"order_id": order.pk, "online_payment_id": attempt.pk}],
        note=f"Онлайн-платёж не совпал с заказом № {order.pk}: {problem}.",
        **fields,
    )
