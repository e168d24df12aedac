"""Tests: the database from DATABASE_URL (PostgreSQL in CI) or in-memory SQLite."""

import os

from .base import *  # noqa: F403

if "DATABASE_URL" not in os.environ:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
SECRET_KEY = "test-key"  # noqa: S105
ALLOWED_HOSTS = ["*"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each test makes its own data in a database made for the tests: a demo database by
# construction, so the sandbox and the movable clock need no marker row here (the tests
# of the refusal set "DEMO_DATABASE" back to "marker").
PODPISKA = {**PODPISKA, "ALLOW_TEST_CLOCK": True, "DEMO_DATABASE": "assumed"}  # noqa: F405
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
DIRECTORY_COMPANIES = 2000
