"""Login throttling: per account and per address, kept in the database.

Guessing passwords is stopped on two counts, so neither many addresses against one
account nor one address against many accounts gets far:
- an account (the e-mail typed, whether it exists or not, so the lockout tells nothing)
  is closed after ACCOUNT_LIMIT wrong passwords within WINDOW;
- an address after ADDRESS_LIMIT wrong passwords within WINDOW.
While closed, even the right password is refused with a clear message; the lock lifts
by itself when the oldest counted failure leaves the window. A successful login clears
its account's count. The moment a lock starts is audited. The counts live in the
database, so every web process sees the same ones.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from podpiska.accounts.models import LoginFailure
from podpiska.audit.log import record
from podpiska.core import clock
from podpiska.core.net import client_address

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20

LOCKED_MESSAGE = _(
    "Слишком много неудачных попыток входа. Вход временно закрыт — попробуйте через "
    "15 минут или восстановите пароль."
)


def _username(value) -> str:
    return str(value or "").strip().lower()[:254]


def address_of(request) -> str:
    if request is None:
        return ""
    return client_address(request, trust_forwarded=settings.LOGIN_TRUST_X_FORWARDED_FOR)


def _counts(username: str, address: str) -> tuple[int, int]:
    since = clock.now() - WINDOW
    recent = LoginFailure.objects.filter(at__gt=since)
    by_account = recent.filter(username=username).count() if username else 0
    by_address = recent.filter(address=address).count() if address else 0
    return by_account, by_address


def is_locked(username, address: str) -> bool:
    by_account, by_address = _counts(_username(username), address)
    return by_account >= ACCOUNT_LIMIT or by_address >= ADDRESS_LIMIT


def record_failure(username, address: str) -> bool:
    """Count a wrong password; returns whether the account or address is now locked."""
    username = _username(username)
    now = clock.now()
    with transaction.atomic():
        failure = LoginFailure.objects.create(username=username, address=address, at=now)
        by_account, by_address = _counts(username, address)
        # Rows that no longer count, a few at a time: the table stays small.
        stale = LoginFailure.objects.filter(at__lte=now - WINDOW).values_list("pk", flat=True)[:200]
        LoginFailure.objects.filter(pk__in=list(stale)).delete()
        locked = by_account >= ACCOUNT_LIMIT or by_address >= ADDRESS_LIMIT
        if by_account == ACCOUNT_LIMIT or by_address == ADDRESS_LIMIT:
            record("accounts.login_locked", failure, actor="login-throttle", after={
                "username": username, "address": address,
                "failures_for_account": by_account, "failures_from_address": by_address,
                "until": (now + WINDOW).isoformat(),
            })
    return locked


def clear(username) -> None:
    """A successful login: the account's earlier typos stop counting."""
    LoginFailure.objects.filter(username=_username(username)).delete()


class ThrottledLoginMixin:
    """For an AuthenticationForm (customer and staff login): refuse while locked,
    count each wrong password, forget them on success."""

    def clean(self):
        username = self.cleaned_data.get("username")
        address = address_of(self.request)
        if is_locked(username, address):
            raise ValidationError(LOCKED_MESSAGE, code="locked")
        try:
            data = super().clean()
        except ValidationError:
            if username and self.cleaned_data.get("password"):
                if record_failure(username, address):
                    raise ValidationError(LOCKED_MESSAGE, code="locked") from None
            raise
        if username:
            clear(username)
        return data
