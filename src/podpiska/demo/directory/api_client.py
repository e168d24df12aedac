"""The directory's client of Podpiska's public API (`/api/v1`), over HTTP like any
outside product: `Authorization: Bearer <key>`, JSON in and out.

Every refusal of the API becomes an `ApiError` carrying the API's own Russian message;
a network failure or a 5xx becomes `ApiUnavailable`, so the page can say so plainly.
"""

from dataclasses import dataclass, field

import httpx
from django.utils.translation import gettext as _

DEFAULT_TIMEOUT = 10.0


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    body: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class LimitExceeded(ApiError):
    @property
    def remaining(self) -> int:
        return int(self.body.get("remaining") or 0)


class FieldSetNotIncluded(ApiError):
    pass


class ApiUnavailable(ApiError):
    pass


ERRORS_BY_CODE = {"limit_exceeded": LimitExceeded, "field_set_not_included": FieldSetNotIncluded}


class PodpiskaClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None):
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1/",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, url: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(0, "unavailable", _("Сервис лимитов недоступен: %(error)s") % {"error": exc.__class__.__name__}) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.is_success:
            return body
        code = str(body.get("code") or "error")
        message = str(body.get("message") or _("Сервис лимитов ответил %(status)s") % {"status": response.status_code})
        if response.status_code >= 500:
            raise ApiUnavailable(response.status_code, code, message, body)
        raise ERRORS_BY_CODE.get(code, ApiError)(response.status_code, code, message, body)

    def entitlements(self, organization_id: int) -> dict:
        return self._call("GET", f"organizations/{organization_id}/entitlements")

    def consume(self, organization_id: int, *, rows: int, field_set: str, idempotency_key: str) -> dict:
        """Spend `rows` of the limit once per `idempotency_key` (a repeat replays the answer)."""
        return self._call(
            "POST", f"organizations/{organization_id}/exports",
            json={"rows": rows, "field_set": field_set},
            headers={"Idempotency-Key": idempotency_key},
        )

    def refund(self, organization_id: int, export_id, *, rows: int) -> dict:
        return self._call(
            "POST", f"organizations/{organization_id}/exports/{export_id}/refund", json={"rows": rows}
        )
