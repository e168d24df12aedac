"""`Authorization: Bearer <key>` for the host-product API."""

import re

from ninja.security import HttpBearer

from podpiska.api.keys import authenticate, authenticate_spending, key_allows
from podpiska.api.models import ApiKey
from podpiska.core import clock

# Ids are 64-bit in the database; larger numbers are refused before any query.
MAX_ID = 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}")


class ApiKeyAuth(HttpBearer):
    """The key of the request (`request.auth`).

    With `spending=True` (the export route) the same statement also reads the
    organization's term period in force, which the route needs next: it is left in
    `request.term_period` (None: another rule applies, the route works it out), read at
    `request.at`, the time the route then spends at.
    """

    openapi_description = "API-ключ сервиса: заголовок `Authorization: Bearer <ключ>`."

    def __init__(self, *, spending: bool = False):
        super().__init__()
        self.spending = spending

    def authenticate(self, request, token: str) -> ApiKey | None:
        if not self.spending:
            return authenticate(token)
        request.at = clock.now()
        request.term_period = None
        # The path is not validated yet: an id the route would refuse reads no period.
        organization_id = str(request.resolver_match.kwargs.get("organization_id", ""))
        if not _ID.fullmatch(organization_id) or not 1 <= int(organization_id) <= MAX_ID:
            return authenticate(token)
        key, request.term_period = authenticate_spending(token, int(organization_id), request.at)
        return key


class OutOfScope(Exception):
    """The organization does not exist or the key may not act for it (both are 404)."""


def check_scope(request, organization) -> None:
    if organization is None or not key_allows(request.auth, organization):
        raise OutOfScope()


def actor_label(request) -> str:
    key = request.auth
    return f"api:{key.prefix}… {key.name}"
