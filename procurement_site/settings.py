"""Settings for the Inventory Procurement service.

Every value that differs between machines is read from the environment here, and only here.
Without ``DATABASE_URL`` the service runs on an embedded SQLite file so that ``make run`` works on
any machine; production and the test suite run on PostgreSQL, schema ``procurement``.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from accounts.rates import parse_rate
from procurement_site.logging import django_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-dev-key-only-for-local-debugging")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "procurement_site.apps.ProcurementSiteConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "suppliers",
    "stock",
    "procurement",
    "accounts",
    "integrations",
]

MIDDLEWARE = [
    # First: every later log line of the request carries its id (see procurement_site.logging).
    "procurement_site.middleware.RequestIdMiddleware",
    # Probes answer before host validation and the HTTPS redirect: they come from the
    # orchestrator with the pod's address as Host, over plain HTTP.
    "procurement_site.middleware.HealthCheckMiddleware",
    "procurement_site.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: answers a locked-out login attempt with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "procurement_site.urls"
WSGI_APPLICATION = "procurement_site.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DB_SCHEMA = "procurement"

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # A plain pathlib.Path: environ.Path breaks the SQLite backend's ``in`` checks.
            "NAME": Path(
                env.str("SQLITE_PATH", default=str(BASE_DIR / "var" / "procurement.sqlite3"))
            ),
        }
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Every table, Django's own included, lives in the service's schema; the schema is created
    # before the first migration runs (see procurement_site.apps).
    _options["options"] = f"-c search_path={DB_SCHEMA},public"
    if env.bool("DB_POOL", default=True):
        # Django's built-in psycopg pool at the service page's figures.
        _options["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=3),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
            "max_idle": env.float("DB_POOL_MAX_IDLE_SECONDS", default=600.0),
            "timeout": env.float("DB_POOL_TIMEOUT_SECONDS", default=10.0),
        }
        # The pool checks a connection before handing it out, so connections broken by a
        # database restart are replaced instead of failing the next request.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
    # Lets several test runs share one server (e.g. two checkouts) without clashing.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("DJANGO_TEST_DB_NAME", default="test_procurement"),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# `make run` (debug) and servers started with WHITENOISE_USE_FINDERS=1 (the test suite's) serve
# static files straight from the apps, without a prior collectstatic, under their plain names.
# Otherwise (production) the names carry a content hash from the manifest that `collectstatic`
# writes into STATIC_ROOT; procurement_site.wsgi refuses to start without it
# (procurement_site.staticfiles).
WHITENOISE_USE_FINDERS = DEBUG or env.bool("WHITENOISE_USE_FINDERS", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if WHITENOISE_USE_FINDERS
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- API ------------------------------------------------------------------------------------
# django-axes first (it refuses a locked-out login before the password is checked), then Django's
# ModelBackend with a user's permissions loaded in one query (procurement_site/auth.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "procurement_site.auth.SingleQueryModelBackend",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Authorization: Token <key>` against the hashed tokens of `accounts`.
        "procurement_site.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Writes per user (API_WRITE_RATE below); reads are not limited.
    "DEFAULT_THROTTLE_CLASSES": ["procurement_site.api.throttling.WriteRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["procurement_site.api.permissions.ModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "procurement_site.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Ordering is a filter of each filterset (procurement_site.api.filters.OrderingFilter).
    "DEFAULT_FILTER_BACKENDS": ["procurement_site.api.filters.FilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["procurement_site.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["procurement_site.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "procurement_site.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Request bodies: at most this many bytes (else 413 `request_too_large`; Django's default, made
# explicit: the largest purchase order, 500 lines, is about 100 KB) and this many levels of nested
# arrays and objects (else 400 `too_deep`; the deepest body the API takes has 3).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
API_MAX_JSON_DEPTH = 32

SPECTACULAR_SETTINGS = {
    "TITLE": "NovaTrek Inventory Procurement API",
    "DESCRIPTION": (
        "Purchasing workflows, supplier relationships and stock replenishment. "
        "Every error body has one shape: see the `Error` schema. "
        f"Request bodies are JSON of at most {DATA_UPLOAD_MAX_MEMORY_SIZE} bytes (else 413 "
        f"`request_too_large`) nested at most {API_MAX_JSON_DEPTH} levels of arrays and objects "
        "deep (else 400 `too_deep`)."
    ),
    "VERSION": "2.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI from the service's own static files (drf-spectacular-sidecar, pinned), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the purchase-order status set, wherever a field uses it (status, transitions).
    "ENUM_NAME_OVERRIDES": {
        "PurchaseOrderStatusEnum": "procurement.models.POStatus",
        "CurrencyEnum": "procurement.serializers.CURRENCY_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # OpenAPI links between operations (supplier -> purchase order -> next status).
        "procurement_site.api.schema.add_links",
        # 429 (API_WRITE_RATE) on every write operation.
        "procurement_site.api.schema.add_write_limit_responses",
        # 413 and the nesting limit on every operation that takes a body.
        "procurement_site.api.schema.add_body_limits",
        # POST /stock-adjustments: one schema per reason (oneOf, discriminator `reason`).
        "stock.openapi.add_adjustment_variants",
        # Idempotency-Key, its 409/422 answers and Idempotent-Replayed on every POST and PATCH.
        "procurement_site.api.idempotency.document_idempotency",
    ],
}

# --- Limits (contract "Tokens and limits") ----------------------------------------------------
# Writes (POST, PATCH, DELETE) per user through the API, in DRF's rate syntax (`600/minute`,
# `20/second`, `10000/day`); empty: no limit. Beyond it: 429 `throttled` with Retry-After.
API_WRITE_RATE = env.str("API_WRITE_RATE", default="600/minute")
parse_rate(API_WRITE_RATE)  # a bad value stops the start-up here, with what is expected

# The admin login (django-axes): after AXES_FAILURE_LIMIT failed attempts for one username from
# one address, that pair is refused (even with the right password) for the cool-off, which a new
# failed attempt restarts; a success clears the count. `manage.py axes_reset_username <name>`
# lifts a lockout early.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "procurement_site.auth.locked_out"
# The client's address: REMOTE_ADDR, or behind DJANGO_TRUSTED_PROXY_COUNT proxies the address
# that the outermost of them saw (procurement_site.auth.client_ip).
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "procurement_site.auth.client_ip"

# Content Security Policy on every page (django-csp): scripts, styles, fonts, frames and form
# targets from the service itself only; no inline script or style, no eval, no plugin, and no
# page may frame it. The admin and Swagger UI (SpectacularSwaggerSplitView, whose start-up script
# is a file of its own) work under it; images may also be data: URIs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Background work (Django's Tasks API, django-tasks backport; `manage.py db_worker`) --------
# Tasks are rows in the database, enqueued on commit of the change that asks for them; any number
# of workers share them. On Django 6 the import becomes ``django.tasks``; nothing else changes.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# --- Integrations: idempotent writes, events, webhooks (docs/integrations.md) ------------------
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
# Seconds before each retry of a failed webhook attempt; then the delivery is marked failed.
WEBHOOK_RETRY_DELAYS = [
    int(delay)
    for delay in env.list(
        "WEBHOOK_RETRY_DELAYS", default=["5", "300", "1800", "7200", "18000", "36000"]
    )
    if str(delay).strip()
]
# Development and tests only: lets webhooks target http and private or loopback addresses.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)

# --- Domain settings -------------------------------------------------------------------------
DEFAULT_LEAD_TIME_DAYS = env.int("DEFAULT_LEAD_TIME_DAYS", default=7)
# Threads (each with its own database connection) a reorder-point recalculation splits its
# levels between on PostgreSQL: its aggregate and writes are one core's work each (1: none).
RECALCULATION_WORKERS = env.int("RECALCULATION_WORKERS", default=2)
# How far past its ordered quantity a PO line may be received in total, in percent (0: not at
# all); a receipt beyond it is refused (409 ``over_receipt``).
try:
    OVER_RECEIPT_TOLERANCE_PERCENT = Decimal(env.str("OVER_RECEIPT_TOLERANCE_PERCENT", default="0"))
except InvalidOperation:
    OVER_RECEIPT_TOLERANCE_PERCENT = Decimal("NaN")
if not OVER_RECEIPT_TOLERANCE_PERCENT.is_finite() or OVER_RECEIPT_TOLERANCE_PERCENT < 0:
    raise ImproperlyConfigured("OVER_RECEIPT_TOLERANCE_PERCENT must be a number >= 0.")

# A PO whose total is above this amount (in its own currency) needs two approvals.
PO_SECOND_APPROVAL_ABOVE = Decimal(env.str("PO_SECOND_APPROVAL_ABOVE", default="10000.00"))

# --- E-mail to suppliers (procurement.tasks) ---------------------------------------------------
# EMAIL_URL: smtp://user:password@host:587 (smtp+tls:// for STARTTLS, smtp+ssl://, consolemail://).
# Without it: the console under DEBUG (`make run`), else SMTP on localhost:25 (Django's default).
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="NovaTrek Procurement <procurement@novatrek.example>"
)
# Seconds to wait before each retry of a failed send to a supplier (as the webhooks' retries).
SUPPLIER_EMAIL_RETRY_DELAYS = [
    int(delay)
    for delay in env.list(
        "SUPPLIER_EMAIL_RETRY_DELAYS", default=["5", "300", "1800", "7200", "18000", "36000"]
    )
]

# --- Backups (manage.py backup_database / restore_database) ----------------------------------
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(BASE_DIR / "backups")))
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=30)
# Where pg_dump and pg_restore are looked up; empty: on PATH. Their major version must be at
# least the server's (e.g. /usr/lib/postgresql/16/bin).
PG_BIN_DIR = env.str("PG_BIN_DIR", default="")

# --- Logging: one JSON object per line on stderr --------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING_CONFIG = "procurement_site.logging.configure"
LOGGING = django_config(LOG_LEVEL)

# --- Security (production) ---------------------------------------------------------------------
# Behind a TLS-terminating proxy that sets (and strips client-sent) X-Forwarded-Proto, requests
# it received over HTTPS count as secure. Set DJANGO_SECURE_PROXY_SSL_HEADER=0 when the service
# is reached without such a proxy, or a client could claim HTTPS.
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
# Only sends the ``preload`` token; listing a domain is a separate, manual submission.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
