"""Settings shared by every environment; secrets and hosts come from the environment."""

import os
from pathlib import Path

import dj_database_url

from podpiska.core.limits import MAX_API_BODY_BYTES

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("PODPISKA_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "podpiska.staff.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    # django-ninja's own Swagger UI files, so /api/v1/docs works without internet.
    "ninja",
    "podpiska.core",
    "podpiska.audit",
    "podpiska.accounts",
    "podpiska.catalog",
    "podpiska.subscriptions",
    "podpiska.billing",
    "podpiska.notifications",
    "podpiska.support",
    "podpiska.api",
    "podpiska.web",
    "podpiska.staff",
    "podpiska.demo",
    "podpiska.jobs",
]

# Sessions, sign-in, messages and the current organization are the pages' own: the
# host-product API (/api/) passes by them (core.middleware.PagesOnly).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "podpiska.core.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "podpiska.core.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in person's stored language comes first.
    "podpiska.core.locale.ChosenLanguageMiddleware",
    "podpiska.core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "podpiska.core.middleware.TestClockMiddleware",
    "podpiska.accounts.middleware.CurrentOrganizationMiddleware",
]

ROOT_URLCONF = "podpiska.urls"
WSGI_APPLICATION = "podpiska.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "podpiska.web.context_processors.podpiska",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'podpiska.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the threaded demo server and the worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )

# A form or API body beyond this is refused before it is read (the API answers 413);
# uploaded files are streamed to disk and limited by their forms.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_API_BODY_BYTES

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# The project's own assets (CSS, JS, vendored htmx) live outside any app.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# The outbox sends under a row lock: a hung SMTP server must not hold it for long.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "billing@podpiska.local")

SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every PDF («Step 1 - Fetching and parsing HTML» …) at INFO.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}

# --- Podpiska: the business configuration -------------------------------------------

# The seller's requisites, printed on every invoice. `vat_rate` is a percent (22) or
# None for a seller that does not pay VAT («Без НДС»).
PODPISKA_SELLER = {
    "name": os.environ.get("SELLER_NAME", "ООО «Подписка»"),
    "inn": os.environ.get("SELLER_INN", "7736207543"),
    "kpp": os.environ.get("SELLER_KPP", "773601001"),
    "ogrn": os.environ.get("SELLER_OGRN", "1027700229193"),
    "address": os.environ.get("SELLER_ADDRESS", "119021, г. Москва, ул. Льва Толстого, д. 16"),
    "bank": os.environ.get("SELLER_BANK", "ПАО Сбербанк"),
    "bik": os.environ.get("SELLER_BIK", "044525225"),
    "corr_account": os.environ.get("SELLER_CORR_ACCOUNT", "30101810400000000225"),
    "account": os.environ.get("SELLER_ACCOUNT", "40702810938000000001"),
    # Who signs the closing documents (УПД), printed in their signature blocks.
    "head_position": os.environ.get("SELLER_HEAD_POSITION", "Генеральный директор"),
    "head_name": os.environ.get("SELLER_HEAD_NAME", "Смирнов Алексей Петрович"),
    "accountant_name": os.environ.get("SELLER_ACCOUNTANT_NAME", "Кузнецова Мария Игоревна"),
    # The seller's participant id at its electronic document operator (Диадок, СБИС):
    # the УПД XML file name carries it; without one the INN and KPP stand in.
    "edo_id": os.environ.get("SELLER_EDO_ID", ""),
    "vat_rate": (
        None
        if os.environ.get("SELLER_VAT_RATE", "22").lower() in {"", "none", "0"}
        else int(os.environ.get("SELLER_VAT_RATE", "22"))
    ),
}

PODPISKA = {
    # Tariff offered by default to an organization that never paid (SPEC §4).
    "DEFAULT_OFFER_TARIFF": os.environ.get("PODPISKA_DEFAULT_OFFER_TARIFF", "400"),
    # The yellow warning shows this many days before paid coverage ends.
    "WARNING_DAYS": int(os.environ.get("PODPISKA_WARNING_DAYS", "30")),
    # A bank transfer takes this many business days to reach the seller.
    "BANK_DELAY_BUSINESS_DAYS": int(os.environ.get("PODPISKA_BANK_DELAY_DAYS", "3")),
    # An unpaid bank-transfer order expires after this many business days.
    "ORDER_EXPIRY_BUSINESS_DAYS": int(os.environ.get("PODPISKA_ORDER_EXPIRY_DAYS", "10")),
    # Reminder e-mails: days before the end of paid coverage (0 = the day it ends).
    "REMINDER_OFFSETS": [30, 14, 7, 1, 0],
    # The reminder of an unpaid invoice goes this many business days before its pay-by date.
    "INVOICE_REMINDER_BUSINESS_DAYS": 2,
    # Payment provider for online payments: "sandbox" or "yookassa".
    "ONLINE_PROVIDER": os.environ.get("PODPISKA_ONLINE_PROVIDER", "sandbox"),
    # Moving the clock is allowed only in the demo and tests.
    "ALLOW_TEST_CLOCK": False,
    # "marker": the sandbox and the movable clock need the row `podpiska demo` writes
    # (core.demo_database); only the test settings say "assumed".
    "DEMO_DATABASE": "marker",
}

YOOKASSA = {
    "API_URL": os.environ.get("YOOKASSA_API_URL", "https://api.yookassa.ru/v3/"),
    "SHOP_ID": os.environ.get("YOOKASSA_SHOP_ID", ""),
    "SECRET_KEY": os.environ.get("YOOKASSA_SECRET_KEY", ""),
    "RETURN_URL": os.environ.get("YOOKASSA_RETURN_URL", ""),
    "NOTIFICATION_ALLOWED_IPS": env_list(
        "YOOKASSA_NOTIFICATION_IPS",
        "185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,77.75.154.128/25,"
        "77.75.156.11/32,77.75.156.35/32,2a02:5180:0:1509::/64,2a02:5180:0:2655::/64,"
        "2a02:5180:0:1533::/64,2a02:5180:0:2669::/64",
    ),
}
# Behind our own reverse proxy the notification's sender is the rightmost X-Forwarded-For
# hop (the one the proxy appended); without a proxy it must stay off, or anyone could
# claim YooKassa's address.
YOOKASSA_TRUST_X_FORWARDED_FOR = env_bool("YOOKASSA_TRUST_X_FORWARDED_FOR")
# The same for the login throttle's per-address count: behind a proxy every client would
# otherwise share the proxy's address and lock each other out.
LOGIN_TRUST_X_FORWARDED_FOR = env_bool("LOGIN_TRUST_X_FORWARDED_FOR")

# The reference company directory (demo) calls the API here; empty = the same server.
DIRECTORY_API_URL = os.environ.get("DIRECTORY_API_URL", "")
# Its API key; empty = the key `podpiska demo` issued.
DIRECTORY_API_KEY = os.environ.get("DIRECTORY_API_KEY", "")
# How many companies `podpiska demo` generates for it.
DIRECTORY_COMPANIES = int(os.environ.get("DIRECTORY_COMPANIES", "50000"))

SUPPORT = {
    "PHONE": os.environ.get("SUPPORT_PHONE", "8 800 500-10-10"),
    "EMAIL": os.environ.get("SUPPORT_EMAIL", "support@podpiska.local"),
    "MESSENGER_URL": os.environ.get("SUPPORT_MESSENGER_URL", "https://t.me/podpiska_support"),
    # Empty: «пн–пт, 9:00–18:00 (МСК)» in the page's language (web.context_processors).
    "HOURS": os.environ.get("SUPPORT_HOURS", ""),
}
