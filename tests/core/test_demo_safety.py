"""The demo never runs on a real database by accident: settings chosen explicitly, and the
movable clock (like the sandbox, see tests/billing/test_online_sandbox.py) needs the
marker row `podpiska demo` writes."""

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from podpiska import cli
from podpiska.core import clock
from podpiska.core.demo_database import is_demo_database, mark_demo_database
from podpiska.core.models import ClockOffset, DemoDatabase
from tests.factories import make_user

ENV_NAMES = ("DJANGO_SETTINGS_MODULE", "PODPISKA_DEMO", "DATABASE_URL", "SECRET_KEY")


@pytest.mark.parametrize(
    ("env", "chosen"),
    [
        ({}, cli.DEMO),  # a fresh checkout: SQLite demo
        ({"PODPISKA_DEMO": "1"}, cli.DEMO),
        ({"PODPISKA_DEMO": "1", "DATABASE_URL": "postgres://h/db"}, cli.DEMO),
        ({"DATABASE_URL": "postgres://h/db", "SECRET_KEY": "s"}, cli.PRODUCTION),
        ({"PODPISKA_DEMO": "0", "DATABASE_URL": "postgres://h/db", "SECRET_KEY": "s"}, cli.PRODUCTION),
        ({"DJANGO_SETTINGS_MODULE": "podpiska.settings.test", "DATABASE_URL": "x"}, "podpiska.settings.test"),
    ],
)
def test_settings_are_chosen_explicitly(monkeypatch, env, chosen):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.choose_settings() == chosen


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "postgres://h/db"}, "SECRET_KEY"),
        ({"DATABASE_URL": "postgres://h/db", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"PODPISKA_DEMO": "0"}, "DATABASE_URL"),
        ({"PODPISKA_DEMO": "maybe", "DATABASE_URL": "postgres://h/db"}, "PODPISKA_DEMO"),
    ],
)
def test_production_without_its_secrets_is_refused_not_demoed(monkeypatch, env, says):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(cli.SettingsRefused, match=says):
        cli.choose_settings()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_with_a_database_but_no_secret_key_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    env["PODPISKA_VAR_DIR"] = str(tmp_path)
    port = _free_port()
    # Before the fix this served the demo; the timeout turns that into a failure.
    done = subprocess.run(
        [sys.executable, "-m", "podpiska", "serve", f"127.0.0.1:{port}"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0], done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "prod.sqlite3").exists()


def test_movable_clock_needs_the_demo_marker(db, settings):
    settings.PODPISKA = {**settings.PODPISKA, "DEMO_DATABASE": "marker"}
    staff = make_user("root@podpiska.local", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    ClockOffset.objects.create(pk=1, seconds=86_400 * 30)
    try:
        assert not clock.test_clock_allowed()
        clock.load_offset()
        assert clock.offset() == timedelta(0)  # the stored offset is not taken
        with pytest.raises(PermissionError):
            clock.store_offset(timedelta(days=1))
        assert client.post("/staff/clock/", {"days": "5"}).status_code == 404
        assert ClockOffset.objects.get().seconds == 86_400 * 30

        mark_demo_database()
        assert is_demo_database() and clock.test_clock_allowed()
        assert client.get("/staff/clock/").status_code == 200
    finally:
        clock.reset()


def test_demo_command_writes_the_marker_once_and_only_under_demo_settings(db, settings, monkeypatch):
    monkeypatch.setattr("podpiska.demo.management.commands.demo.load_all", lambda: None)
    settings.PODPISKA = {**settings.PODPISKA, "ALLOW_TEST_CLOCK": False}
    with pytest.raises(CommandError, match="PODPISKA_DEMO"):
        call_command("demo")
    assert not DemoDatabase.objects.exists()

    settings.PODPISKA = {**settings.PODPISKA, "ALLOW_TEST_CLOCK": True}
    call_command("demo")
    call_command("demo")
    assert DemoDatabase.objects.count() == 1
