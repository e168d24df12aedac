"""YooKassa (ЮKassa) through its HTTP API v3.

- `POST payments` with Basic auth `shopId:secretKey` and the attempt's stable
  `Idempotence-Key`: a retry after a timeout gets the payment created the first time.
- Notifications carry no signature: the sender's address is checked against the
  published ranges (settings.YOOKASSA["NOTIFICATION_ALLOWED_IPS"]), and even then the
  body only names the payment — its status and amount come from `GET payments/{id}`.
"""

import ipaddress
import json
import logging
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from podpiska.billing.invoices import invoice_line
from podpiska.billing.models import OnlinePayment
from podpiska.billing.providers.base import (
    BaseProvider,
    NotificationResult,
    ProviderError,
    ProviderPayment,
    description_of,
    parse_payment,
)
from podpiska.core.money import format_decimal
from podpiska.core.net import client_address

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
# Receipt VAT codes (yookassa.ru/developers/54fz/parameters-values): the seller's rate
# in percent, None for a seller without VAT.
VAT_CODES = {None: 1, 0: 2, 10: 3, 20: 4, 5: 7, 7: 8, 22: 11}
UNREACHABLE = gettext_lazy("Не удалось связаться с ЮKassa. Попробуйте ещё раз через минуту.")


def vat_code(rate_percent: int | None) -> int:
    try:
        return VAT_CODES[rate_percent or None]
    except KeyError:
        raise ProviderError(
            _("Онлайн-оплата не настроена: неизвестная ставка НДС продавца.")
        ) from None


def sender_address(request) -> str:
    """The notification's sender (behind our proxy: YOOKASSA_TRUST_X_FORWARDED_FOR)."""
    return client_address(
        request, trust_forwarded=getattr(settings, "YOOKASSA_TRUST_X_FORWARDED_FOR", False)
    )


def address_allowed(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            logger.error("YOOKASSA NOTIFICATION_ALLOWED_IPS has a bad entry %r", network)
    return False


def receipt_for(attempt: OnlinePayment) -> dict:
    """The 54-FZ receipt YooKassa issues for a card payment: one line, the whole amount."""
    order = attempt.order
    requisites = order.requisites or {}
    email = requisites.get("email") or (order.created_by.email if order.created_by_id else "")
    customer = {"inn": requisites.get("inn", "")}
    if requisites.get("name"):
        customer["full_name"] = requisites["name"][:256]
    if email:
        customer["email"] = email
    line = invoice_line(order)
    return {
        "customer": customer,
        "items": [
            {
                "description": line if len(line) <= 128 else line[:127] + "…",
                "quantity": "1.00",
                "amount": {"value": format_decimal(attempt.amount), "currency": "RUB"},
                "vat_code": vat_code(settings.PODPISKA_SELLER.get("vat_rate")),
                "payment_mode": "full_payment",
                "payment_subject": "service",
            }
        ],
    }


class YooKassaProvider(BaseProvider):
    name = "yookassa"

    @property
    def config(self) -> dict:
        return settings.YOOKASSA

    # -- HTTP -------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        shop_id, secret = self.config.get("SHOP_ID", ""), self.config.get("SECRET_KEY", "")
        if not shop_id or not secret:
            raise ProviderError(_("Онлайн-оплата не настроена. Оплатите, пожалуйста, по счёту."))
        return httpx.Client(
            base_url=self.config["API_URL"],
            auth=(shop_id, secret),
            timeout=TIMEOUT_SECONDS,
        )

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            with self._client() as client:
                response = client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            logger.warning("YooKassa %s %s timed out", method, path)
            raise ProviderError(
                _("ЮKassa не ответила вовремя. Попробуйте ещё раз через минуту.")
            ) from None
        except httpx.HTTPError as exc:
            logger.warning("YooKassa %s %s failed: %s", method, path, exc)
            raise ProviderError(UNREACHABLE) from None
        if response.status_code == 202 or response.status_code >= 500:
            # Still processing or a server error: the same Idempotence-Key retries safely.
            logger.warning("YooKassa %s %s answered %s", method, path, response.status_code)
            raise ProviderError(UNREACHABLE)
        if response.status_code >= 400:
            logger.error(
                "YooKassa %s %s refused (%s): %s",
                method,
                path,
                response.status_code,
                response.text[:1000],
            )
            raise ProviderError(
                _(
                    "ЮKassa отклонила платёж. Оплатите, пожалуйста, по счёту или напишите в поддержку."
                )
            )
        try:
            return response.json()
        except ValueError:
            logger.error("YooKassa %s %s answered not JSON: %s", method, path, response.text[:1000])
            raise ProviderError(UNREACHABLE) from None

    # -- the interface ------------------------------------------------------------

    def request_payment(self, attempt: OnlinePayment, *, return_url: str) -> ProviderPayment:
        order = attempt.order
        body = {
            "amount": {"value": format_decimal(attempt.amount), "currency": "RUB"},
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": return_url},
            "description": description_of(order),
            "metadata": {"order_id": str(order.pk), "online_payment_id": str(attempt.pk)},
            "receipt": receipt_for(attempt),
        }
        data = self._call(
            "POST", "payments", json=body, headers={"Idempotence-Key": attempt.idempotence_key}
        )
        return parse_payment(data)

    def fetch_status(self, online_payment: OnlinePayment) -> ProviderPayment:
        if not online_payment.external_id:
            raise ProviderError(_("Платёж ещё не создан в ЮKassa."))
        remote = parse_payment(self._call("GET", f"payments/{online_payment.external_id}"))
        if remote.external_id != online_payment.external_id:
            raise ProviderError(UNREACHABLE)
        return remote

    def handle_notification(self, request) -> NotificationResult:
        address = sender_address(request)
        if not address_allowed(address, self.config.get("NOTIFICATION_ALLOWED_IPS", ())):
            logger.warning("YooKassa notification from a foreign address %s refused", address)
            return NotificationResult(403, "forbidden")
        try:
            body = json.loads(request.body)
            event = body["event"]
            payment_id = body["object"]["id"]
            if (
                body.get("type") != "notification"
                or not isinstance(event, str)
                or not isinstance(payment_id, str)
            ):
                raise ValueError
        except (ValueError, TypeError, KeyError):
            return NotificationResult(400, "bad notification body")
        if not event.startswith("payment."):
            # Refunds, payouts and deals are not ours to act on; 200 stops redelivery.
            logger.info("YooKassa notification %s ignored", event)
            return NotificationResult(200, "ignored")
        attempt = OnlinePayment.objects.filter(provider=self.name, external_id=payment_id).first()
        if attempt is None:
            logger.warning(
                "YooKassa notification %s for an unknown payment %s ignored", event, payment_id
            )
            return NotificationResult(200, "unknown payment")
        return NotificationResult(200, "ok", online_payment=attempt)

    def return_url_for(self, attempt: OnlinePayment, final_url: str) -> str:
        """On the public address (YOOKASSA_RETURN_URL) when the request's host is not it."""
        url = super().return_url_for(attempt, final_url)
        public = urlsplit(self.config.get("RETURN_URL", ""))
        if public.scheme and public.netloc:
            path = urlsplit(url)
            url = f"{public.scheme}://{public.netloc}{path.path}?{path.query}"
        return url
