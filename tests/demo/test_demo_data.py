from django.core.management import call_command

from podpiska.accounts.models import Organization, User
from podpiska.billing.warnings import WarningState, expiry_warning
from podpiska.core.models import DemoDatabase
from podpiska.core.requisites import check_requisites
from podpiska.subscriptions.availability import State, available_actions
from podpiska.subscriptions.models import Subscription
from tests.conftest import NOW


def test_demo_is_idempotent_and_matches_the_logins(db, clock):
    call_command("demo")
    counts = (User.objects.count(), Organization.objects.count(), Subscription.objects.count())
    call_command("demo")
    assert (User.objects.count(), Organization.objects.count(), Subscription.objects.count()) == counts
    assert DemoDatabase.objects.count() == 1  # the sandbox and the movable clock may run here

    def org_of(email):
        return User.objects.get(email=email).memberships.get(role="owner").organization

    assert User.objects.get(email="staff@demo.local").is_staff
    paid = available_actions(org_of("paid@demo.local"), NOW)
    assert paid.state == State.PAID and paid.current.tariff.code == "200"
    assert (paid.current.ends_at - NOW).days == 9  # ends in 10 days: midnight after day 9
    assert expiry_warning(org_of("paid@demo.local"), NOW).state == WarningState.EXPIRING
    assert available_actions(org_of("max@demo.local"), NOW).on_maximum
    assert available_actions(org_of("expired@demo.local"), NOW).state == State.FREE_AFTER_PAID
    assert available_actions(org_of("free@demo.local"), NOW).state == State.FREE_NEVER_PAID
    assert User.objects.get(email="paid@demo.local").memberships.count() == 2


def test_demo_requisites_are_valid(db):
    call_command("demo")
    for org in Organization.objects.all():
        _, errors = check_requisites(inn=org.inn, ogrn=org.ogrn, **({"kpp": org.kpp} if org.kpp else {}))
        assert errors == {}, (org, errors)


def test_demo_staff_logins_are_in_their_groups_and_listed(db, clock, client):
    from io import StringIO

    call_command("demo")
    out = StringIO()
    call_command("demo", stdout=out)  # twice: still one user each, in one group
    for email, group in [("billing@demo.local", "billing"), ("support@demo.local", "support")]:
        user = User.objects.get(email=email)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert user.check_password("demo")
        assert email in out.getvalue()
    assert client.login(email="support@demo.local", password="demo")
    assert client.get("/staff/payments/queue/").status_code == 200
    assert client.get("/staff/payments/confirm/").status_code == 403
    assert client.login(email="billing@demo.local", password="demo")
    assert client.get("/staff/payments/confirm/").status_code == 200


def test_demo_on_a_database_without_tables_migrates_first(tmp_path):
    """`podpiska demo` on a fresh SQLite file creates the tables itself instead of failing."""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    db_file = tmp_path / "fresh.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY")}
    env["DATABASE_URL"] = f"sqlite:///{db_file}"
    cli = Path(sys.executable).with_name("podpiska")
    done = subprocess.run([str(cli), "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "Демо-данные загружены." in done.stdout
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("select count(*) from catalog_tariff").fetchone()[0] > 0
