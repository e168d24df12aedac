"""`Authorization: Bearer <key>` for the host-product API."""

from ninja.security import HttpBearer

from podpiska.api.keys import authenticate, key_allows
from podpiska.api.models import ApiKey


class ApiKeyAuth(HttpBearer):
    openapi_description = "API-ключ сервиса: заголовок `Authorization: Bearer <ключ>`."

    def authenticate(self, request, token: str) -> ApiKey | None:
        return authenticate(token)


class OutOfScope(Exception):
    """The organization does not exist or the key may not act for it (both are 404)."""


def check_scope(request, organization) -> None:
    if organization is None or not key_allows(request.auth, organization):
        raise OutOfScope()


def actor_label(request) -> str:
    key = request.auth
    return f"api:{key.prefix}… {key.name}"
