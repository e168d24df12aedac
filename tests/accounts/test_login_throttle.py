"""Login throttling per account and per address (accounts.throttle)."""

from datetime import timedelta

import pytest
from django.test import Client

from podpiska.accounts import throttle
from podpiska.accounts.models import LoginFailure
from podpiska.audit.models import AuditRecord
from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOCKED = "Слишком много неудачных попыток входа"
WRONG = "Неверная электронная почта или пароль."


def _login(client, email, password, url="/login/", **extra):
    return client.post(url, {"username": email, "password": password}, **extra)


def test_twenty_wrong_passwords_then_the_right_one_is_refused(clock):
    make_user("anna@example.com", password="right-password")
    client = Client()
    for n in range(20):
        page = _login(client, "anna@example.com", f"guess-{n}").content.decode()
        # The first four are plain wrong passwords; from the fifth the login is closed.
        assert (LOCKED in page) == (n >= throttle.ACCOUNT_LIMIT - 1), n
    response = _login(client, "anna@example.com", "right-password")
    assert response.status_code == 200 and LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The lockout is audited once, when it starts; refused attempts are not counted on.
    [lock] = AuditRecord.objects.filter(action="accounts.login_locked")
    assert lock.actor is None and lock.actor_label == "login-throttle"
    assert lock.after["username"] == "anna@example.com" and lock.after["failures_for_account"] == 5
    assert LoginFailure.objects.filter(username="anna@example.com").count() == 5
    # The lock lifts by itself, and a success clears the count.
    clock.shift(throttle.WINDOW + timedelta(seconds=1))
    assert _login(client, "anna@example.com", "right-password").status_code == 302
    assert not LoginFailure.objects.filter(username="anna@example.com").exists()


def test_the_lock_is_per_account_whatever_the_case_and_another_account_still_logs_in(clock):
    make_user("anna@example.com", password="right-password")
    make_user("boris@example.com", password="his-password")
    client = Client()
    for n in range(throttle.ACCOUNT_LIMIT):
        _login(client, "Anna@Example.com" if n % 2 else "anna@example.com", "nope")
    assert LOCKED in _login(client, "anna@example.com", "right-password").content.decode()
    assert _login(Client(), "boris@example.com", "his-password").status_code == 302


def test_an_unknown_account_locks_the_same_way_so_the_lock_tells_nothing(clock):
    client = Client()
    pages = [_login(client, "nobody@example.com", "nope").content.decode() for _ in range(6)]
    assert WRONG in pages[0] and LOCKED in pages[-1]


def test_one_address_trying_many_accounts_is_stopped(clock):
    make_user("anna@example.com", password="right-password")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(throttle.ADDRESS_LIMIT):
        _login(attacker, f"user{n}@example.com", "123456")
    assert LOCKED in _login(attacker, "anna@example.com", "right-password").content.decode()
    # A forged X-Forwarded-For does not get round it unless the proxy is trusted.
    forged = _login(attacker, "anna@example.com", "right-password", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert LOCKED in forged.content.decode()
    # Everyone else still logs in.
    assert _login(Client(REMOTE_ADDR="192.0.2.1"), "anna@example.com", "right-password").status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(clock, settings):
    settings.LOGIN_TRUST_X_FORWARDED_FOR = True
    make_user("anna@example.com", password="right-password")
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for n in range(throttle.ADDRESS_LIMIT):
        _login(proxy, f"user{n}@example.com", "123456", HTTP_X_FORWARDED_FOR="203.0.113.7")
    blocked = _login(proxy, "anna@example.com", "right-password", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert LOCKED in blocked.content.decode()
    # Another client behind the same proxy is not locked out with the attacker.
    other = _login(proxy, "anna@example.com", "right-password", HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.9")
    assert other.status_code == 302


def test_staff_login_is_throttled_too(clock):
    make_user("staff@podpiska.local", password="staff-password", is_staff=True)
    client = Client()
    for _ in range(throttle.ACCOUNT_LIMIT):
        _login(client, "staff@podpiska.local", "nope", url="/staff/login/")
    response = _login(client, "staff@podpiska.local", "staff-password", url="/staff/login/")
    assert response.status_code == 200 and LOCKED in response.content.decode()
    assert AuditRecord.objects.filter(action="accounts.login_locked").count() == 1


@pytest.mark.parametrize("username", ["x" * 1_000_000, "anna\x00@example.com", ""])
def test_hostile_login_input_is_refused_without_a_trace(clock, username):
    response = _login(Client(), username, "nope")
    assert response.status_code == 200
    assert not LoginFailure.objects.exists()
    assert not AuditRecord.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_guesses_sent_all_at_once_still_lock_the_account():
    """Sixteen wrong passwords in parallel get the same five tries as one after another;
    the lockout is audited exactly once, and the right password is refused after."""
    from django.db import connection

    from podpiska.core import clock
    from tests.concurrency import run_threads
    from tests.conftest import NOW

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    clock.freeze(NOW)
    try:
        make_user("anna@example.com", password="right-password")
        results, errors = run_threads(16, lambda i: _login(Client(), "anna@example.com", f"guess-{i}").status_code)
        assert errors == [] and results == [200] * 16
        assert LoginFailure.objects.filter(username="anna@example.com").count() == throttle.ACCOUNT_LIMIT
        assert AuditRecord.objects.filter(action="accounts.login_locked").count() == 1
        assert LOCKED in _login(Client(), "anna@example.com", "right-password").content.decode()
    finally:
        clock.reset()
