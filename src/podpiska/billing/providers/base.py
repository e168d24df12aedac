"""The interface every online payment provider implements, after django-getpaid's BaseProcessor.

A provider does three things: `create_payment` (start an attempt and get the page where
the customer pays), `handle_notification` (read the provider's callback, say which
attempt it concerns), and `fetch_status` (ask the provider where an attempt stands).
Nothing a notification or a redirect claims is believed: `billing.online` always
re-fetches the payment from the provider and acts on that answer only.

Payments are described in YooKassa's shape (`id`, `status`, `amount.value`, `metadata`…)
by every provider, so the code that records money reads one format.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from podpiska.audit.changes import ALL, audited_create, audited_update
from podpiska.billing.actions import OrderRefused
from podpiska.billing.models import OnlinePayment, OnlinePaymentStatus, Order, OrderStatus
from podpiska.core import clock
from podpiska.core.money import group_thousands, parse_rubles

logger = logging.getLogger(__name__)

# Attempts that may still be paid; a new attempt is started only when none is open.
OPEN_STATUSES = (OnlinePaymentStatus.PENDING, OnlinePaymentStatus.WAITING_FOR_CAPTURE)
FINAL_STATUSES = (OnlinePaymentStatus.SUCCEEDED, OnlinePaymentStatus.CANCELED)


class ProviderError(Exception):
    """The provider could not be reached or refused; the message is for the customer."""


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider reports it (already re-fetched, so trusted)."""

    external_id: str
    status: str
    amount: int | None  # kopecks; None when the provider reported no rouble amount
    metadata: dict = field(default_factory=dict)
    confirmation_url: str = ""
    captured_at: datetime | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationResult:
    """What to answer the provider, and which attempt to re-fetch (None: nothing to do)."""

    status_code: int
    message: str
    online_payment: OnlinePayment | None = None


def parse_payment(data: dict) -> ProviderPayment:
    """A YooKassa-shaped payment object; raises ProviderError when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise ProviderError(_("Платёжный сервис прислал непонятный ответ. Попробуйте ещё раз."))
    amount = None
    money = data.get("amount")
    if isinstance(money, dict) and money.get("currency") == "RUB":
        try:
            amount = parse_rubles(str(money.get("value", "")))
        except ValueError:
            amount = None
    confirmation = data.get("confirmation") if isinstance(data.get("confirmation"), dict) else {}
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    captured = data.get("captured_at")
    return ProviderPayment(
        external_id=data["id"],
        status=str(data.get("status", "")),
        amount=amount,
        metadata={str(k): str(v) for k, v in metadata.items()},
        confirmation_url=str(confirmation.get("confirmation_url") or ""),
        captured_at=parse_datetime(captured) if isinstance(captured, str) else None,
        raw=data,
    )


def description_of(order: Order, limit: int = 128) -> str:
    """«Заказ № 17: тариф «Компас 200»» — shown by the provider and in the bank statement."""
    if order.addon_exports:
        exports = group_thousands(order.addon_exports, " ")  # plain: banks show it
        text = f"Заказ № {order.pk}: дополнительные выгрузки (+{exports})"
    else:
        text = f"Заказ № {order.pk}: тариф «{order.tariff_name}»"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BaseProvider:
    """One payment service. Subclasses implement the three `_`-less hooks below."""

    name = ""

    # -- the interface -----------------------------------------------------------

    def create_payment(self, order: Order, *, return_url: str) -> OnlinePayment:
        """The order's open attempt at this provider, created there if it is not yet.

        Idempotent per attempt: the attempt row and its Idempotence-Key are committed
        before the provider is called, so a double click, a retry after a timeout or two
        concurrent requests all send the same key and get the same payment back.
        `return_url` is where the customer finally lands; the provider returns them to
        our return page first, which re-fetches the status.
        """
        attempt = self.open_attempt(order)
        if attempt.external_id and attempt.confirmation_url:
            return attempt
        remote = self.request_payment(attempt, return_url=self.return_url_for(attempt, return_url))
        return self.remember(attempt, remote)

    def handle_notification(self, request) -> NotificationResult:
        raise NotImplementedError

    def fetch_status(self, online_payment: OnlinePayment) -> ProviderPayment:
        raise NotImplementedError

    def request_payment(self, attempt: OnlinePayment, *, return_url: str) -> ProviderPayment:
        """Create the payment at the provider with `attempt.idempotence_key`."""
        raise NotImplementedError

    # -- shared steps -------------------------------------------------------------

    def open_attempt(self, order: Order) -> OnlinePayment:
        """Lock the order; reuse its open attempt at this provider or start a new one."""
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.status != OrderStatus.AWAITING_PAYMENT:
                raise OrderRefused(
                    _("Заказ № %(number)s уже %(status)s.")
                    % {"number": locked.pk, "status": locked.get_status_display()}
                )
            if locked.price <= 0:
                raise OrderRefused(_("Этот заказ не нужно оплачивать."))
            attempt = (
                locked.online_payments.filter(provider=self.name, status__in=OPEN_STATUSES)
                .order_by("-created_at", "-id")
                .first()
            )
            if attempt is not None:
                return attempt
            now = clock.now()
            return audited_create(
                OnlinePayment, "online_payment.started", locked.created_by,
                order=locked,
                provider=self.name,
                idempotence_key=f"{self.name}-{locked.pk}-{uuid.uuid4().hex}",
                amount=locked.price,
                created_at=now,
                updated_at=now,
            )

    def remember(self, attempt: OnlinePayment, remote: ProviderPayment) -> OnlinePayment:
        """Store what the provider answered to the creation request."""
        with transaction.atomic():
            locked = (
                OnlinePayment.objects.select_for_update().select_related("order").get(pk=attempt.pk)
            )
            if locked.external_id and locked.external_id != remote.external_id:
                # Same Idempotence-Key, different payment: the provider broke its promise.
                logger.error(
                    "provider %s answered attempt %s with payment %s, already %s",
                    self.name,
                    locked.pk,
                    remote.external_id,
                    locked.external_id,
                )
                raise ProviderError(
                    _("Платёжный сервис ответил противоречиво. Обратитесь в поддержку.")
                )
            changes = {"external_id": remote.external_id,
                       "confirmation_url": remote.confirmation_url, "raw": remote.raw}
            if remote.status in OnlinePaymentStatus.values and locked.status not in FINAL_STATUSES:
                changes["status"] = remote.status
            audited_update(locked, "online_payment.created", None, recorded=ALL, **changes)
        return locked

    @staticmethod
    def return_url_for(attempt: OnlinePayment, final_url: str) -> str:
        """Our return page for the attempt on the host of `final_url`, then `final_url`'s path.

        Only the path travels in `next`, so the return page can never send the customer
        to another site.
        """
        parts = urlsplit(final_url)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        path = reverse("billing:online_return", args=[attempt.pk])
        return f"{origin}{path}?{urlencode({'next': target or '/'})}"
