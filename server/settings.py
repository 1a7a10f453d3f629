"""Settings, all of them read from the environment (see README, "Configuration")."""

import base64
import hashlib
import hmac
import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if not re.match(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$", value):
        raise ImproperlyConfigured(f"{name} must be a rate such as 10/min, not {value!r}.")
    return value


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # No default secret: `make run` and the test command generate one under var/.
    raise ImproperlyConfigured("SECRET_KEY is not set (see README, Configuration).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL is not set (see README, Configuration).")
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL.")
DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = "duchaa"
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A request that fails changes nothing: DRF's exception handler rolls this back.
DATABASES["default"]["ATOMIC_REQUESTS"] = True

REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is not set (see README, Configuration).")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "audits",
    "workers",
]

MIDDLEWARE = [
    "audits.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "audits.middleware.ApiUriLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audits.middleware.ApiBodyLimitMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"
ASGI_APPLICATION = "server.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

AUTH_USER_MODEL = "audits.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if env_bool("FAST_PASSWORD_HASHER"):
    # Tests only: hashing cost is not what they check.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# No MEDIA_URL is served: evidence is only ever delivered through the API.
MEDIA_URL = "/media-not-public/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# JSON bodies under /api/ are small; uploads get their own, streamed limits.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32)
# Path and query of an /api/ URL; under gunicorn's own request-line limit (gunicorn.conf.py).
API_MAX_URL_BYTES = env_int("API_MAX_URL_BYTES", 4096)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
NUM_PROXIES = env_int("NUM_PROXIES", 0)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "duchaa"),
        "TIMEOUT": 300,
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "audits.api.authentication.DeviceJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["audits.api.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "audits.api.pagination.CursorPage",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "audits.api.problems.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("THROTTLE_USER", "6000/min"),
        "anon": os.environ.get("THROTTLE_ANON", "600/min"),
        # Token refresh and logout, per address; sign-in has its own limits (below).
        "auth_ip": env_rate("THROTTLE_AUTH_IP", "60/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "UNICODE_JSON": True,
    "DATETIME_FORMAT": "iso-8601",
}

# Sign-in limits, shared by every way in (the API's token, the web form, the admin through
# it), counting refused attempts only; docs/OPERATIONS.md, "Sign-in limits".
SIGNIN_LIMIT_ADDRESS = env_rate("THROTTLE_AUTH_IP", "60/min")  # any names, one address
SIGNIN_LIMIT_USERNAME = env_rate("THROTTLE_AUTH_USERNAME", "10/min")  # one name, one address
# One name from all addresses together, except those it signed in from in the last N days.
SIGNIN_LIMIT_USERNAME_GLOBAL = env_rate("THROTTLE_AUTH_USERNAME_GLOBAL", "100/min")
SIGNIN_KNOWN_ADDRESS_DAYS = env_int("SIGNIN_KNOWN_ADDRESS_DAYS", 30)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 30)),
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", SECRET_KEY),
    "ALGORITHM": "HS256",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Duchá API",
    "DESCRIPTION": "Unannounced field inspections: findings, evidence, bulletins, audit trail.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "audits.api.schema.list_error_codes",
    ],
}

CELERY_BROKER_URL = REDIS_URL
CELERY_IMPORTS = [
    "workers.accounts",
    "workers.bulletins",
    "workers.mail",
    "workers.maintenance",
    "workers.photos",
    "workers.outbox",
    "workers.trail",
]
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
# Above every task's time limit, so a slow task is not delivered twice while it runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 4}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "purge-idempotency-records": {
        "task": "workers.maintenance.purge_idempotency_records",
        "schedule": timedelta(hours=6),
    },
    "expire-idle-device-sessions": {
        "task": "workers.accounts.expire_idle_device_sessions",
        "schedule": timedelta(hours=1),
    },
    "outbox-sweep": {"task": "workers.outbox.sweep", "schedule": timedelta(seconds=30)},
}

EMAIL_URL = os.environ.get("EMAIL_URL", "console://")
if EMAIL_URL.startswith("console:"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif EMAIL_URL.startswith("locmem:"):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
elif EMAIL_URL.startswith("file:"):
    # file:///some/dir: one file per message (tests read what a worker process sent).
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = EMAIL_URL.removeprefix("file://")
else:
    from urllib.parse import unquote, urlparse

    _mail = urlparse(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or "localhost"
    EMAIL_PORT = _mail.port or 25
    EMAIL_HOST_USER = unquote(_mail.username or "")
    EMAIL_HOST_PASSWORD = unquote(_mail.password or "")
    EMAIL_USE_TLS = _mail.scheme == "smtp+tls"
    EMAIL_USE_SSL = _mail.scheme == "smtps"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "duchaa@localhost")
# Where people reach the service, for links in e-mail ("" leaves the link out).
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")

# Idempotency-Key: how long a duplicate waits for the first request, how long keys live.
IDEMPOTENCY_WAIT_SECONDS = float(os.environ.get("IDEMPOTENCY_WAIT_SECONDS", "10"))
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 48)

# A check-in or photo farther than this from the target is flagged (never refused).
CHECKIN_FAR_METRES = env_int("CHECKIN_FAR_METRES", 1000)

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass-2015")
DEVICE_SESSION_IDLE_DAYS = env_int("DEVICE_SESSION_IDLE_DAYS", 60)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Photo evidence ---
# Originals are stored byte-for-byte under content-addressed names through the storage API.
# PHOTO_STORAGE_BACKEND switches the backend: "s3" for any S3-compatible object store
# (django-storages; AWS_STORAGE_BUCKET_NAME and AWS_S3_ENDPOINT_URL below, credentials from
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the machine's role), or a storage class's path.
# Default: the local disk under MEDIA_ROOT.
_PHOTO_BACKENDS = {
    "local": "django.core.files.storage.FileSystemStorage",
    "s3": "storages.backends.s3.S3Storage",
}
_photo_backend = os.environ.get("PHOTO_STORAGE_BACKEND", "local")
STORAGES = {
    "default": {"BACKEND": _PHOTO_BACKENDS.get(_photo_backend, _photo_backend)},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
for _name in (
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_LOCATION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
):
    if os.environ.get(_name):
        globals()[_name] = os.environ[_name]
AWS_DEFAULT_ACL = None  # objects stay private: the bucket's policy, never public-read
AWS_QUERYSTRING_AUTH = True  # no unsigned URL can ever name a photo
AWS_S3_FILE_OVERWRITE = False  # write-once: a taken name is never written again
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 40 * 1024 * 1024)  # one photo, one upload session
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 40_000_000)  # refused before decoding
PHOTO_MIN_SIDE = env_int("PHOTO_MIN_SIDE", 64)  # smaller pictures are not evidence
PHOTO_THUMBNAIL_PX = env_int("PHOTO_THUMBNAIL_PX", 320)
PHOTO_PREVIEW_PX = env_int("PHOTO_PREVIEW_PX", 1600)
PHOTO_FAR_METRES = env_int("PHOTO_FAR_METRES", CHECKIN_FAR_METRES)
PHOTO_REUSE_HAMMING = env_int("PHOTO_REUSE_HAMMING", 4)  # dHash bits for "near-identical"
PHOTO_UPLOADS_OPEN_PER_USER = env_int("PHOTO_UPLOADS_OPEN_PER_USER", 20)
PHOTO_UPLOADS_BYTES_PER_USER = env_int("PHOTO_UPLOADS_BYTES_PER_USER", 400 * 1024 * 1024)
PHOTO_UPLOAD_MAX_AGE_HOURS = env_int("PHOTO_UPLOAD_MAX_AGE_HOURS", 48)
PHOTO_MAX_ATTEMPTS = env_int("PHOTO_MAX_ATTEMPTS", 4)
PHOTO_TASK_TIME_LIMIT = min(env_int("PHOTO_TASK_TIME_LIMIT", 120), CELERY_TASK_TIME_LIMIT)
PHOTO_X_ACCEL_PREFIX = os.environ.get("PHOTO_X_ACCEL_PREFIX", "")  # e.g. /protected-media/
OUTBOX_STALE_SECONDS = env_int("OUTBOX_STALE_SECONDS", PHOTO_TASK_TIME_LIMIT * 2)
OUTBOX_RELAY_TIMEOUT = float(os.environ.get("OUTBOX_RELAY_TIMEOUT", "0.5"))  # broker socket, s
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= max(
    CELERY_TASK_TIME_LIMIT, PHOTO_TASK_TIME_LIMIT
):
    raise ImproperlyConfigured("The broker's visibility timeout must exceed every time limit.")
CELERY_BEAT_SCHEDULE["photos-remove-stale-uploads"] = {
    "task": "workers.photos.remove_stale_uploads",
    "schedule": timedelta(hours=1),
}
# --- end Photo evidence ---


# --- Audit trail sealing ---
# Keys live outside the database (docs/AUDIT.md). AUDIT_HMAC_KEY: base64 of >= 32 random bytes;
# AUDIT_SIGNING_KEY: base64 of the 32-byte Ed25519 seed. Production must set both: with DEBUG
# off the service does not start without them (audits/checks.py). With DEBUG on, an unset
# one is derived from SECRET_KEY with HMAC-SHA256, and a warning says so.
def _audit_key(name: str, purpose: bytes) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    derived = hmac.new(SECRET_KEY.encode(), purpose, hashlib.sha256).digest()
    return base64.b64encode(derived).decode()


AUDIT_KEYS_DERIVED = [
    name for name in ("AUDIT_HMAC_KEY", "AUDIT_SIGNING_KEY") if not os.environ.get(name, "").strip()
]
AUDIT_HMAC_KEY = _audit_key("AUDIT_HMAC_KEY", b"duchaa-audit-hmac-v1")
AUDIT_SIGNING_KEY = _audit_key("AUDIT_SIGNING_KEY", b"duchaa-audit-ed25519-v1")
AUDIT_SEAL_INTERVAL_SECONDS = float(os.environ.get("AUDIT_SEAL_INTERVAL_SECONDS", "2"))
AUDIT_SEAL_BATCH = env_int("AUDIT_SEAL_BATCH", 20000)  # leaves per sealing transaction
AUDITOR_EMAILS = env_list("AUDITOR_EMAILS")  # daily signed head; auditors' own e-mails too
AUDIT_HEAD_MAIL_HOUR = env_int("AUDIT_HEAD_MAIL_HOUR", 7)  # local time (TIME_ZONE)
CELERY_BEAT_SCHEDULE["audit-seal"] = {
    "task": "workers.trail.seal",
    "schedule": timedelta(seconds=AUDIT_SEAL_INTERVAL_SECONDS),
    "options": {"expires": max(AUDIT_SEAL_INTERVAL_SECONDS, 1.0)},
}
CELERY_BEAT_SCHEDULE["audit-daily-head"] = {
    "task": "workers.trail.mail_daily_head",
    "schedule": crontab(hour=AUDIT_HEAD_MAIL_HOUR, minute=0),
}
# --- end Audit trail sealing ---


# --- Bulletins (docs/BULLETINS.md) ---
# A compile renders for seconds (a 1,000-finding bulletin: about 10 s); the limit catches a
# runaway, and the failed bulletin says so.
BULLETIN_TASK_TIME_LIMIT = min(env_int("BULLETIN_TASK_TIME_LIMIT", 240), CELERY_TASK_TIME_LIMIT)
# Recipients who have not acknowledged are reminded this many days after delivery, again
# after as many more, at most this many times.
BULLETIN_REMIND_AFTER_DAYS = env_int("BULLETIN_REMIND_AFTER_DAYS", 3)
BULLETIN_REMIND_ROUNDS = env_int("BULLETIN_REMIND_ROUNDS", 3)
# Local hours of the scheduler's daily jobs: the drafts of campaigns that ended and of last
# month (each made once), and the reminders.
BULLETIN_DRAFTS_HOUR = env_int("BULLETIN_DRAFTS_HOUR", 6)
BULLETIN_REMIND_HOUR = env_int("BULLETIN_REMIND_HOUR", 9)
CELERY_BEAT_SCHEDULE["bulletins-generate-drafts"] = {
    "task": "workers.bulletins.generate_drafts",
    "schedule": crontab(hour=BULLETIN_DRAFTS_HOUR, minute=10),
}
CELERY_BEAT_SCHEDULE["bulletins-remind"] = {
    "task": "workers.bulletins.remind_unacknowledged",
    "schedule": crontab(hour=BULLETIN_REMIND_HOUR, minute=0),
}
# --- end Bulletins ---
