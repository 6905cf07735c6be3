"""Settings for Copilot Calendars, read from the environment.

Every variable is listed in the README's configuration table. Defaults suit a
developer's machine (SQLite, the local Google emulator); production sets
``SECRET_KEY``, ``DATABASE_URL``, ``ALLOWED_HOSTS`` and the Google credentials.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a development machine).")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Public HTTPS address of this deployment (used for Google push notification webhooks
# and for links written into Google events). Empty: polling only, links use the request host.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_q",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "copilot.accounts",
    "calendars",
    "patients",
    "booking",
    "integrations",
    "copilot.ops",
]
# The Google emulator (`google_emulator/`, a development tool) brings the `google_emulator`
# command. Production (DEBUG off, no GOOGLE_EMULATOR_URL) leaves it out; the product never
# imports it.
if DEBUG or env("GOOGLE_EMULATOR_URL"):
    INSTALLED_APPS.append("google_emulator")

MIDDLEWARE = [
    "copilot.ops.requestid.RequestIdMiddleware",  # first: every log line of a request has its id
    "copilot.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, pre-compressed: answered here
    # Pages compressed on the wire, after everything below has written them (BREACH: docs/SECURITY.md).
    "django.middleware.gzip.GZipMiddleware",
    "copilot.security.PortalMethodsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "copilot.security.SecurityHeadersMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "copilot.accounts.middleware.CurrentPracticeMiddleware",
]

ROOT_URLCONF = "copilot.urls"
WSGI_APPLICATION = "copilot.wsgi.application"

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
                "copilot.accounts.context_processors.current_practice",
                "calendars.context_processors.inbox_unread",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web server and a django-q2 worker share the file: WAL, a busy timeout and
    # IMMEDIATE transactions keep "database is locked" away and serialize bookings.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Time ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # storage; every practice has its own IANA zone for display and entry
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS only in production (docs/SECURITY.md, "Headers"): HSTS for a year, subdomains included;
# "preload" only consents to the browsers' preload list (joining it takes a separate submission).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Flash messages can name a patient ("Booked “Filling: …”"): keep them in the server-side session,
# never in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Fernet key(s) for OAuth tokens at rest, comma-separated, newest first (rotation).
# Unset: derived from SECRET_KEY, which is fine for development only.
TOKEN_ENCRYPTION_KEYS = env_list("TOKEN_ENCRYPTION_KEYS")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Accounts (django-allauth) -----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "calendars:week"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# An address counts only once its owner proved it (a confirmation link, or setting the password
# from an invitation's link): invitations match verified primary addresses only.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "copilot.accounts.adapters.AccountAdapter"
ACCOUNT_ALLOW_SIGNUP = env_bool("ACCOUNT_ALLOW_SIGNUP", False)
# Failed logins: 10 a minute per client IP, and 5 per 5 minutes per (account, client IP); the
# adapter puts the IP into the key, so a stranger's guesses cannot lock the real person out.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}
INVITATION_EXPIRE_DAYS = 7

# The week and team views keep rendered pages per process while one query says nothing they show
# changed (calendars/page_cache.py, docs/ARCHITECTURE.md): at most this many bytes; 0 turns it off.
PAGE_CACHE_BYTES = int(env("PAGE_CACHE_BYTES", str(32 * 1024 * 1024)))
# Behind a TLS-terminating proxy the client's address is the last X-Forwarded-For hop.
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if env_bool("BEHIND_PROXY") else 0
SOCIALACCOUNT_ADAPTER = "integrations.google.oauth.SocialAccountAdapter"
# Google tokens live only in GoogleConnection's encrypted columns, fed from the token response.
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10

# --- Cache ---------------------------------------------------------------------------------
# "default" is shared by every worker process (allauth's rate limits live there): Redis when
# REDIS_URL is set, else a database table (created by a migration; `createcachetable` also works).
# "local" is per process, for pure speed-ups that may differ between workers.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "copilot_cache"}
    ),
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "copilot-local"},
}

# --- Google ----------------------------------------------------------------------------------
# GOOGLE_EMULATOR_URL points every Google address at the project's emulator; nothing else in
# the app knows it is not talking to Google.
GOOGLE_EMULATOR_URL = env("GOOGLE_EMULATOR_URL").rstrip("/")
# The emulator's default OAuth client. The emulator owns these values (google_emulator/oauth.py);
# settings repeat them rather than import the emulator, and
# tests/google_emulator/test_boundaries.py fails if the two ever differ.
_EMULATOR_CLIENT_ID = "copilot-local.apps.googleusercontent.com"
_EMULATOR_CLIENT_SECRET = "copilot-local-secret"
GOOGLE_CLIENT_ID = env("GOOGLE_CLIENT_ID", _EMULATOR_CLIENT_ID if GOOGLE_EMULATOR_URL else "")
GOOGLE_CLIENT_SECRET = env("GOOGLE_CLIENT_SECRET", _EMULATOR_CLIENT_SECRET if GOOGLE_EMULATOR_URL else "")
if GOOGLE_EMULATOR_URL:
    GOOGLE_URLS = {
        "authorize": f"{GOOGLE_EMULATOR_URL}/o/oauth2/v2/auth",
        "token": f"{GOOGLE_EMULATOR_URL}/token",
        "revoke": f"{GOOGLE_EMULATOR_URL}/revoke",
        "userinfo": f"{GOOGLE_EMULATOR_URL}/oauth2/v2/userinfo",
        "certs": f"{GOOGLE_EMULATOR_URL}/oauth2/v1/certs",
        "issuer": GOOGLE_EMULATOR_URL,
        "api_endpoint": f"{GOOGLE_EMULATOR_URL}/calendar/v3/",
        "batch": f"{GOOGLE_EMULATOR_URL}/batch/calendar/v3",
    }
else:
    GOOGLE_URLS = {
        "authorize": "https://accounts.google.com/o/oauth2/v2/auth",
        "token": "https://oauth2.googleapis.com/token",
        "revoke": "https://oauth2.googleapis.com/revoke",
        "userinfo": "https://www.googleapis.com/oauth2/v2/userinfo",
        "certs": "https://www.googleapis.com/oauth2/v1/certs",
        "issuer": "https://accounts.google.com",
        "api_endpoint": "https://www.googleapis.com/calendar/v3/",
        "batch": "https://www.googleapis.com/batch/calendar/v3",
    }

# Content-Security-Policy (django-csp). Scripts only from our own static files (htmx is vendored);
# inline style *attributes* are allowed because the week grid places blocks with CSS variables
# (style="--top: …"), while <style> elements stay same-origin (docs/SECURITY.md, "Headers").
# Forms may post to us and to Google's consent page (Connect redirects there).
_GOOGLE_AUTHORIZE_ORIGIN = "/".join(GOOGLE_URLS["authorize"].split("/")[:3])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # for browsers without -elem/-attr (CSP 2)
        "style-src-elem": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'", _GOOGLE_AUTHORIZE_ORIGIN],
        "frame-ancestors": ["'none'"],
    }
}

GOOGLE_CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
GOOGLE_REQUIRED_SCOPES = ["openid", "email", "profile", GOOGLE_CALENDAR_SCOPE]
GOOGLE_HTTP_TIMEOUT = float(env("GOOGLE_HTTP_TIMEOUT", "20"))
GOOGLE_BATCH_SIZE = int(env("GOOGLE_BATCH_SIZE", "50"))
GOOGLE_BATCH_CONCURRENCY = int(env("GOOGLE_BATCH_CONCURRENCY", "4"))
GOOGLE_SYNC_HORIZON_DAYS = int(env("GOOGLE_SYNC_HORIZON_DAYS", "180"))
GOOGLE_SYNC_LOOKBACK_DAYS = int(env("GOOGLE_SYNC_LOOKBACK_DAYS", "7"))
GOOGLE_POLL_MINUTES = int(env("GOOGLE_POLL_MINUTES", "5"))
GOOGLE_STALE_MINUTES = int(env("GOOGLE_STALE_MINUTES", "15"))
GOOGLE_BACKOFF_BASE_SECONDS = float(env("GOOGLE_BACKOFF_BASE_SECONDS", "10"))
GOOGLE_BACKOFF_MAX_SECONDS = float(env("GOOGLE_BACKOFF_MAX_SECONDS", "900"))
# A connection backing off without a successful sync for this long is shown on the book's pages.
GOOGLE_BACKOFF_ALERT_MINUTES = int(env("GOOGLE_BACKOFF_ALERT_MINUTES", "30"))
GOOGLE_CHANNEL_TTL_SECONDS = int(env("GOOGLE_CHANNEL_TTL_SECONDS", str(7 * 24 * 3600)))
# Push notifications handled per channel id and window (django-ratelimit syntax); more are
# acknowledged without any work. See docs/SECURITY.md, "Rate limits".
GOOGLE_WEBHOOK_RATE = env("GOOGLE_WEBHOOK_RATE", "60/m")

SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APPS": [
            {"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET, "key": ""},
        ]
        if GOOGLE_CLIENT_ID
        else [],
        "SCOPE": GOOGLE_REQUIRED_SCOPES,
        "AUTH_PARAMS": {
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
        },
        "OAUTH_PKCE_ENABLED": True,
        "FETCH_USERINFO": False,
        "AUTHORIZE_URL": GOOGLE_URLS["authorize"],
        "ACCESS_TOKEN_URL": GOOGLE_URLS["token"],
        "IDENTITY_URL": GOOGLE_URLS["userinfo"],
        "CERTS_URL": GOOGLE_URLS["certs"],
        "ID_TOKEN_ISSUER": GOOGLE_URLS["issuer"],
    }
}

# --- Background work (django-q2) -------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
Q_CLUSTER = {
    "name": "copilot",
    # 4: from ~300 connections the paced poll and drain runs each keep a worker asleep for most of
    # a minute (docs/SCALING.md); two more stay free for pushes, which must land within seconds.
    "workers": int(env("Q_WORKERS", "4")),
    "timeout": 120,
    "retry": 180,  # must exceed timeout, or a slow task runs twice
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 500,
    "label": "Background tasks",
    "sync": env_bool("Q_SYNC", False),
    "poll": 0.2,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Online booking (booking/) --------------------------------------------------------------
# Posts to the public booking pages per client address and per practice (django-ratelimit syntax,
# counted in the shared "default" cache), and how long a patient's reschedule/cancel link works.
BOOKING_RATE_PER_ADDRESS = env("BOOKING_RATE_PER_ADDRESS", "10/h")
BOOKING_RATE_PER_PRACTICE = env("BOOKING_RATE_PER_PRACTICE", "300/h")
BOOKING_LINK_MAX_AGE_DAYS = int(env("BOOKING_LINK_MAX_AGE_DAYS", "120"))

# --- Email -----------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Copilot Calendars <no-reply@copilot.local>")

# --- Operations: health, metrics, logs, error reports (docs/OPERATIONS.md) ------------------------
# /metrics needs "Authorization: Bearer $METRICS_TOKEN"; without a token it answers 404.
METRICS_TOKEN = env("METRICS_TOKEN")
# /readyz fails when the worker heartbeat (every minute) is older than this, or when the oldest
# queued task has waited longer than that.
READY_WORKER_MAX_SECONDS = int(env("READY_WORKER_MAX_SECONDS", "180"))
READY_QUEUE_MAX_SECONDS = int(env("READY_QUEUE_MAX_SECONDS", "300"))

LOG_FORMAT = env("LOG_FORMAT", "plain")  # plain | json (one JSON object per line)
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "copilot.ops.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(practice_id)s "
            "%(connection_id)s %(calendar_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SENTRY_DSN = env("SENTRY_DSN")
if SENTRY_DSN:
    from copilot.ops.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT"), release=env("SENTRY_RELEASE"))
