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
from django.db import connection, transaction
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


def _serialize(username: str, address: str) -> None:
    """Take the account's and the address's turn (PostgreSQL advisory locks, released at
    commit), so parallel guesses are counted one after another and none slips past the
    limit. SQLite writes one transaction at a time anyway."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Always the account first, then the address: no two logins wait on each other.
        cursor.execute("SELECT pg_advisory_xact_lock(1, hashtext(%s))", [username])
        if address:
            cursor.execute("SELECT pg_advisory_xact_lock(2, hashtext(%s))", [address])


def begin_attempt(username, address: str) -> LoginFailure | None:
    """Reserve a try before the password is checked, or None while locked.

    The try counts as a failure until `succeeded` takes it back, so guesses sent all at
    once get no more tries than guesses sent one by one.
    """
    username = _username(username)
    with transaction.atomic():
        _serialize(username, address)
        by_account, by_address = _counts(username, address)
        if by_account >= ACCOUNT_LIMIT or by_address >= ADDRESS_LIMIT:
            return None
        attempt = LoginFailure.objects.create(username=username, address=address, at=clock.now())
    # This try fills a limit: if it fails, the lock starts with it.
    attempt.fills_limit = by_account + 1 == ACCOUNT_LIMIT or by_address + 1 == ADDRESS_LIMIT
    return attempt


def failed(attempt: LoginFailure) -> bool:
    """The password was wrong; returns whether the account or address is now locked."""
    now = clock.now()
    with transaction.atomic():
        # Rows that no longer count, a few at a time: the table stays small.
        stale = LoginFailure.objects.filter(at__lte=now - WINDOW).values_list("pk", flat=True)[:200]
        LoginFailure.objects.filter(pk__in=list(stale)).delete()
        by_account, by_address = _counts(attempt.username, attempt.address)
        if attempt.fills_limit:
            record("accounts.login_locked", attempt, actor="login-throttle", after={
                "username": attempt.username, "address": attempt.address,
                "failures_for_account": by_account, "failures_from_address": by_address,
                "until": (now + WINDOW).isoformat(),
            })
    return by_account >= ACCOUNT_LIMIT or by_address >= ADDRESS_LIMIT


def succeeded(username) -> None:
    """The right password: the account's earlier typos (and this try) stop counting."""
    LoginFailure.objects.filter(username=_username(username)).delete()


class ThrottledLoginMixin:
    """For an AuthenticationForm (customer and staff login): refuse while locked,
    count each wrong password, forget them on success."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # the field errors say what is missing; nothing tried
        attempt = begin_attempt(username, address_of(self.request))
        if attempt is None:
            raise ValidationError(LOCKED_MESSAGE, code="locked")
        try:
            data = super().clean()
        except ValidationError:
            if failed(attempt):
                raise ValidationError(LOCKED_MESSAGE, code="locked") from None
            raise
        succeeded(username)
        return data
