"""Django settings for the 1С:УТ 10.3 → Bitrix24 connector, read from the environment (django-environ).

APP_ENV selects the profile: ``production`` (default; every secret must be given), ``test``, ``demo`` and
``development`` (embedded defaults so a newcomer can run the tests and the demo without configuring anything).
"""

import os
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Under pytest the profile defaults to "test"; everywhere else to "production".
APP_ENV = env.str("APP_ENV", default="test" if "pytest" in sys.modules else "production")
if APP_ENV not in {"production", "test", "demo", "development"}:
    raise ImproperlyConfigured(f"APP_ENV={APP_ENV!r}: expected production, test, demo or development.")
IS_PRODUCTION = APP_ENV == "production"

# Embedded defaults for the non-production profiles only; production must say everything explicitly.
_DEV_DEFAULTS = {
    "SECRET_KEY": "dev-insecure-secret-key-not-for-production-use-0123456789",
    "DATABASE_URL": {
        "test": "postgres://postgres@127.0.0.1:5432/bx24app",
        "development": "postgres://postgres@127.0.0.1:5432/bx24app",
        "demo": f"sqlite:///{BASE_DIR / 'var' / 'demo.sqlite3'}",
    },
    "REDIS_URL": {
        "test": "redis://127.0.0.1:6379/1",
        "development": "redis://127.0.0.1:6379/0",
        "demo": "redis://127.0.0.1:6379/0",
    },
    "FIELD_ENCRYPTION_KEY": "dev-field-encryption-key",
    "BITRIX24_CLIENT_ID": "local.bx24app.dev",
    "BITRIX24_CLIENT_SECRET": "dev-client-secret",
    "APP_BASE_URL": "http://127.0.0.1:8000",
}


def required(name, cast=str):
    """Return a setting; in production a missing one stops the start with a message naming it."""
    if name in env.ENVIRON:
        return env.get_value(name, cast=cast)
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required in production (APP_ENV=production). "
            f"Set it, or set APP_ENV=development/test/demo to use the embedded defaults."
        )
    default = _DEV_DEFAULTS[name]
    return default[APP_ENV] if isinstance(default, dict) else default


SECRET_KEY = required("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=APP_ENV == "development")
APP_BASE_URL = required("APP_BASE_URL").rstrip("/")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"] if not IS_PRODUCTION else [])
if IS_PRODUCTION and not ALLOWED_HOSTS:
    from urllib.parse import urlsplit

    ALLOWED_HOSTS = [urlsplit(APP_BASE_URL).hostname]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bx24app",
    "sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bx24app.urls"
WSGI_APPLICATION = "bx24app.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url_config(required("DATABASE_URL"))}
DATABASES["default"].setdefault("CONN_MAX_AGE", 60 if IS_PRODUCTION else 0)
# Test database per test process, so that several suites on one machine never drop each other's database.
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=f"test_bx24app_{os.getpid()}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = required("REDIS_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
# The demo without REDIS_URL runs in one process (bx24app/demo): no Redis, the Celery worker is a thread on the
# in-memory broker, the cache and the REST rate limiter are process-local. REDIS_URL set = production-like.
if APP_ENV == "demo" and "REDIS_URL" not in env.ENVIRON:
    REDIS_URL = ""
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if APP_ENV == "test":
    # cache.clear() in a test must never flush the Redis database that holds the broker and the rate limiter
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if APP_ENV == "demo" and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # web threads, the worker thread and the schedule share one SQLite file: wait for locks, take them early
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 60, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"})

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Secrets at rest -------------------------------------------------------------------------------------
# Comma-separated: the first key encrypts, every key decrypts (key rotation).
FIELD_ENCRYPTION_KEYS = [k.strip() for k in required("FIELD_ENCRYPTION_KEY").split(",") if k.strip()]

# --- Bitrix24 application --------------------------------------------------------------------------------
BITRIX24_CLIENT_ID = required("BITRIX24_CLIENT_ID")
BITRIX24_CLIENT_SECRET = required("BITRIX24_CLIENT_SECRET")
# OAuth servers we trust; never one taken from a request (reference bitrix24-rest.md §1.4, §9.8).
BITRIX24_OAUTH_SERVERS = [
    s.strip().rstrip("/")
    for s in env.list("BITRIX24_OAUTH_SERVERS", default=["https://oauth.bitrix.info", "https://oauth.bitrix24.tech"])
]
BITRIX24_ALLOW_HTTP = env.bool("BITRIX24_ALLOW_HTTP", default=False)
BITRIX24_USER_AGENT = "bx24-onec-ut103/1.0"
BITRIX24_RATE_LIMIT = env.float("BITRIX24_RATE_LIMIT", default=0.0)  # 0 = by tariff (2/s or 5/s)
BITRIX24_HTTP_TIMEOUT = env.float("BITRIX24_HTTP_TIMEOUT", default=30.0)
BITRIX24_MAX_METHOD_PAUSE = env.float("BITRIX24_MAX_METHOD_PAUSE", default=60.0)  # longest wait on a 429'd method
FRAME_TOKEN_TTL = env.int("FRAME_TOKEN_TTL", default=3600)  # settings-page frame token lifetime, s
ONEC_HTTP_TIMEOUT = env.float("ONEC_HTTP_TIMEOUT", default=60.0)

# --- Celery ----------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The scheduled sync's safety net for lost ONCRMDEALUPDATE events (paid deals never notified): how often it looks.
SYNC_PAID_CATCH_UP_SECONDS = env.int("SYNC_PAID_CATCH_UP_SECONDS", default=600)
CELERY_BEAT_SCHEDULE = {
    "sync-due-portals": {"task": "sync.tasks.sync_due_portals", "schedule": 60.0},
}

# --- Security --------------------------------------------------------------------------------------------
# Our pages live inside a Bitrix24 iframe: cookies must be SameSite=None; Secure over https.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
_HTTPS = APP_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _HTTPS
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "None" if _HTTPS else "Lax"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[APP_BASE_URL])
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = IS_PRODUCTION
SECURE_HSTS_PRELOAD = IS_PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # pages framed by Bitrix24 opt out explicitly and send frame-ancestors instead
FRAME_ANCESTORS = env.list(
    "FRAME_ANCESTORS", default=["https://*.bitrix24.ru", "https://*.bitrix24.com", "https://*.bitrix24.by",
                                "https://*.bitrix24.kz", "https://*.bitrix24.de", "https://*.bitrix24.eu"]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}
