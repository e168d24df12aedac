"""The sandbox provider: a local page with «Оплатить» / «Отказаться», for the demo and tests.

It plays the payment service itself: the "provider's" copy of the payment is kept in
`OnlinePayment.raw` in YooKassa's shape, the buttons change that copy, and the result
reaches the order the same way as a real payment — re-fetched, then recorded.
It moves no money, so `billing.online.sandbox_allowed` keeps it out of production.
"""

import uuid

from django.db import transaction
from django.urls import reverse

from podpiska.billing.models import OnlinePayment, OnlinePaymentStatus
from podpiska.billing.providers.base import (
    BaseProvider,
    NotificationResult,
    ProviderPayment,
    description_of,
    parse_payment,
)
from podpiska.core import clock
from podpiska.core.money import format_decimal


class SandboxProvider(BaseProvider):
    name = "sandbox"

    def request_payment(self, attempt: OnlinePayment, *, return_url: str) -> ProviderPayment:
        order = attempt.order
        return parse_payment(
            {
                "id": f"sbx_{uuid.uuid4().hex}",
                "status": OnlinePaymentStatus.PENDING,
                "paid": False,
                "amount": {"value": format_decimal(attempt.amount), "currency": "RUB"},
                "description": description_of(order),
                "metadata": {"order_id": str(order.pk), "online_payment_id": str(attempt.pk)},
                "confirmation": {
                    "type": "redirect",
                    "confirmation_url": reverse("billing:sandbox", args=[attempt.pk]),
                    "return_url": return_url,
                },
                "created_at": clock.now().isoformat(),
            }
        )

    def fetch_status(self, online_payment: OnlinePayment) -> ProviderPayment:
        fresh = OnlinePayment.objects.get(pk=online_payment.pk)
        return parse_payment(fresh.raw)

    def handle_notification(self, request) -> NotificationResult:
        return NotificationResult(404, "the sandbox sends no notifications")

    def decide(self, online_payment: OnlinePayment, *, pay: bool) -> None:
        """The customer pressed «Оплатить» or «Отказаться» on the sandbox page.

        Changes only the provider's side; a payment already decided stays as it is, as
        at a real provider.
        """
        with transaction.atomic():
            locked = OnlinePayment.objects.select_for_update().get(pk=online_payment.pk)
            remote = dict(locked.raw)
            if remote.get("status") != OnlinePaymentStatus.PENDING:
                return
            if pay:
                remote.update(
                    status=OnlinePaymentStatus.SUCCEEDED,
                    paid=True,
                    captured_at=clock.now().isoformat(),
                )
            else:
                remote.update(
                    status=OnlinePaymentStatus.CANCELED,
                    cancellation_details={"party": "payer", "reason": "canceled_by_user"},
                )
            locked.raw = remote
            locked.save(update_fields=["raw"])

    @staticmethod
    def return_url(online_payment: OnlinePayment) -> str:
        confirmation = online_payment.raw.get("confirmation") or {}
        return confirmation.get("return_url") or reverse(
            "billing:online_return", args=[online_payment.pk]
        )
