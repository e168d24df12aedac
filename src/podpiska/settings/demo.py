"""The demo: SQLite, a movable clock, e-mail to the console.

The customer-styled error pages show unless DEBUG=true asks for Django's debug pages.
"""

import os

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", False)  # noqa: F405
SECRET_KEY = SECRET_KEY or "demo-only-insecure-key-not-for-production"  # noqa: F405
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]  # noqa: F405
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
PODPISKA = {**PODPISKA, "ALLOW_TEST_CLOCK": True}  # noqa: F405
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
