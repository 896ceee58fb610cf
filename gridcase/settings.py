"""GridCase settings. Everything that differs between machines comes from environment variables.

With nothing set, GridCase runs on the embedded default: SQLite and a Celery broker on the
filesystem, both under GRIDCASE_DATA_DIR (``var/`` in the checkout).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp
from kombu import Queue

from . import keys
from .env import ConfigError, env_bool, env_int, env_list, env_str, env_thresholds
from .notifications.config import check_webhook_secret

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("GRIDCASE_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# Development (the default) runs with no configuration; GRIDCASE_DEV=false is production.
GRIDCASE_DEV = env_bool("GRIDCASE_DEV", True)
SECRET_KEY = env_str("SECRET_KEY")
# Personal data (phone, ID number) is encrypted at rest with these Fernet keys (see gridcase/keys.py):
# FIELD_ENCRYPTION_KEYS="new,old" - the first encrypts, all decrypt - or a single FIELD_ENCRYPTION_KEY.
# Rotate with `manage.py rotate_field_key`. Never derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = keys.field_keys()
if GRIDCASE_DEV:
    _dev_secrets = keys.dev_secrets(DATA_DIR)  # generated per checkout in the data dir, mode 0600
    SECRET_KEY = SECRET_KEY or _dev_secrets["SECRET_KEY"]
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [_dev_secrets["FIELD_ENCRYPTION_KEY"]]
else:
    keys.refuse_unsafe_production_secrets(SECRET_KEY, FIELD_ENCRYPTION_KEYS, env_str("DATABASE_URL"))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens: stored hashed, expiring, one per login (see api/auth.py)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here: no CDN, and a CSP of 'self'
    "csp",
    "mptt",
    "gridcase.core",
    "gridcase.grids",
    "gridcase.cases",
    "gridcase.visits",
    "gridcase.notifications",
    "gridcase.stats",
    "gridcase.intake",
    "gridcase.interop",
    "gridcase.notices",
    "gridcase.volunteers",
    "gridcase.deliberation",
    "gridcase.jobs",
    "gridcase.campaigns",
    "gridcase.points",
    "api",
]

MIDDLEWARE = [
    "gridcase.core.requestid.RequestIdMiddleware",
    "gridcase.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "gridcase.spa.StaticFilesMiddleware",  # WhiteNoise
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gridcase.core.audit.AuditBatchMiddleware",  # a request's read audit rows: one INSERT
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "gridcase.core.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "gridcase.urls"
WSGI_APPLICATION = "gridcase.wsgi.application"

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
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'gridcase.sqlite3'}")
# Persistent connections are checked before each request reuses them: after a database restart or a
# dropped connection the next request reconnects instead of failing.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
                                              conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# The reads compiled once (gridcase/core/statements.py) are prepared on each connection (Django's own statements
# bind on the client and are never prepared). Off for a pooler in transaction mode that does not carry prepared
# statements across server connections.
DB_PREPARED_STATEMENTS = IS_POSTGRES and env_bool("DB_PREPARED_STATEMENTS", True)
if DB_PREPARED_STATEMENTS:
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
# A streaming read replica (gridcase/core/replica.py): dashboards, stats, exports and reports read there.
REPLICA_DATABASE_URL = env_str("REPLICA_DATABASE_URL", "")
if REPLICA_DATABASE_URL:
    if not IS_POSTGRES or not REPLICA_DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ConfigError("REPLICA_DATABASE_URL needs PostgreSQL for both the primary and the replica")
    DATABASES["replica"] = dj_database_url.parse(REPLICA_DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
                                                 conn_health_checks=True)
    if DB_PREPARED_STATEMENTS:
        DATABASES["replica"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests: the replica is the test database itself
DATABASE_ROUTERS = ["gridcase.core.replica.ReplicaRouter"]
REPLICA_LAG_WARN_SECONDS = env_int("REPLICA_LAG_WARN_SECONDS", 30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The shared cache holds the login throttles: every web process must see the same counts, so production
# refuses to start without Redis (a per-process memory cache would multiply every limit by the workers).
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"CACHE_URL must be a Redis URL (redis://host:6379/1), got {CACHE_URL!r}")
    CACHES = {"default": {"BACKEND": "gridcase.core.cache.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "gridcase")}}
elif not GRIDCASE_DEV:
    raise ConfigError("CACHE_URL must point to Redis in production (GRIDCASE_DEV=false): login throttles are "
                      "shared by all web processes through it")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Passwords set through the API, admin and `changepassword` are checked by these. Development keeps the
# demo's short passwords possible; production asks for 10 characters, not all digits, not a common
# password, not close to the username or name.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8 if GRIDCASE_DEV else 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if not GRIDCASE_DEV:
    AUTH_PASSWORD_VALIDATORS += [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
        {"NAME": "gridcase.core.passwords.DecoratedCommonPasswordValidator"},  # gridcase123, password1!
    ]

# Chinese first: zh-hans unless the caller asks for English. Stored in UTC, shown in Asia/Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "gridcase" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
FRONTEND_DIST = Path(env_str("FRONTEND_DIST", str(BASE_DIR / "frontend" / "dist")))  # the built app (Vite)
STATICFILES_DIRS = [FRONTEND_DIST] if FRONTEND_DIST.exists() else []
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
# Uploads are read only through the scoped views of api/files.py. With MEDIA_ACCEL_REDIRECT nginx sends
# the bytes from its `internal` location MEDIA_ACCEL_PREFIX (deploy/nginx.conf); without it Django streams.
MEDIA_ACCEL_REDIRECT = env_bool("MEDIA_ACCEL_REDIRECT", False)
MEDIA_ACCEL_PREFIX = env_str("MEDIA_ACCEL_PREFIX", "/protected-media/")
WHITENOISE_USE_FINDERS = True
# Vite names every file under dist/assets/ by its content hash: cached for a year, immutable
# (gridcase.spa.StaticFilesMiddleware). Their gzip/brotli copies are written by the build
# (frontend/scripts/precompress.ts); collectstatic compresses the rest (admin, API docs).
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/static/assets/"
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}  # the worker app's install manifest
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 12 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000)
IMPORT_SYNC_MAX_ROWS = env_int("IMPORT_SYNC_MAX_ROWS", 1_000)  # larger files run as a background job
# Exports (gridcase/reports): a list up to EXPORT_SYNC_MAX_ROWS rows is written during the request, a longer one by a
# background job (gridcase/jobs) with progress and a download link; at most EXPORT_MAX_ROWS rows. Job results
# (exports, monthly reports) are deleted JOB_RESULT_DAYS after they finished; a job stops after JOB_TIME_LIMIT s.
EXPORT_SYNC_MAX_ROWS = env_int("EXPORT_SYNC_MAX_ROWS", 5_000)
EXPORT_MAX_ROWS = env_int("EXPORT_MAX_ROWS", 1_000_000)
JOB_RESULT_DAYS = env_int("JOB_RESULT_DAYS", 7)
JOB_TIME_LIMIT = env_int("JOB_TIME_LIMIT", 900)
# A workbook is checked from its zip before parsing: refused past IMPORT_MAX_UNPACKED_BYTES unpacked, parsed
# only by a background job past IMPORT_SYNC_MAX_UNPACKED_BYTES; a job stops after IMPORT_TIME_LIMIT seconds.
IMPORT_MAX_UNPACKED_BYTES = env_int("IMPORT_MAX_UNPACKED_BYTES", 100 * 1024 * 1024)
IMPORT_SYNC_MAX_UNPACKED_BYTES = env_int("IMPORT_SYNC_MAX_UNPACKED_BYTES", 4 * 1024 * 1024)
IMPORT_TIME_LIMIT = env_int("IMPORT_TIME_LIMIT", 600)
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)

# Web hardening. Production defaults pass `manage.py check --deploy`; development stays on plain HTTP.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not GRIDCASE_DEV)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = env_str("SESSION_COOKIE_SAMESITE", "Lax")
CSRF_COOKIE_SAMESITE = SESSION_COOKIE_SAMESITE
CSRF_COOKIE_HTTPONLY = False  # the single-page app sends it back in X-CSRFToken
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not GRIDCASE_DEV)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes and scrapers talk plain HTTP
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if GRIDCASE_DEV else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Entering the HSTS preload list is the domain owner's decision and hard to undo (hstspreload.org),
# so it is opt-in and its reminder (security.W021) is silenced until then.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Content-Security-Policy (django-csp 4). Scripts only from this origin, inline only by hash (the API docs
# use the split Swagger view and the sidecar's files). Styles may also be inline: ECharts' tooltips, django-mptt's
# admin tree, Swagger UI and the browsable API write style attributes (checked in Chromium: no other
# violation). Images also from data:/blob: (photo previews before upload); Vant's icon font is inline data.
# The only inline scripts are three fixed loaders of @vitejs/plugin-legacy in index.html (which build a phone
# runs), allowed by their SHA-256 (from the plugin's `cspHashes`; its fourth, the modern check, is made a file by
# frontend/scripts/modern-check.ts). tests/test_frontend_build.py checks each inline script against this list.
LEGACY_LOADER_HASHES = [
    "'sha256-MS6/3FCg4WjP9gwgaBGwLpRCY6fZBgwmhVCdrPrNf3E='",  # Safari 10.1 nomodule fix
    "'sha256-tQjf8gvb2ROOMapIxFvFAYBeUJ0v1HCbOcSmDNXGtDo='",  # System.import of the legacy entry
    "'sha256-+5XkZFazzJo8n0iOP4ti/cLCMUudTf//Mzkb7xNPXIc='",  # a module-capable but old browser: load legacy
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, *LEGACY_LOADER_HASHES],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:", "blob:"],
        "font-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "worker-src": [csp.SELF],
        "manifest-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}

# The console map's tile layer: a URL template (https://tiles.example.org/{z}/{x}/{y}.png, `{s}` for subdomains).
# None by default: the map draws the boundaries as plain vectors, since many offices have no internet map access.
MAP_TILES = env_str("GRIDCASE_MAP_TILES", "")
MAP_ATTRIBUTION = env_str("GRIDCASE_MAP_ATTRIBUTION", "")
if MAP_TILES:
    if not MAP_TILES.startswith(("https://", "http://")) or not all(k in MAP_TILES for k in ("{z}", "{x}", "{y}")):
        raise ConfigError(f"GRIDCASE_MAP_TILES must be an http(s) URL template with {{z}}, {{x}} and {{y}}, "
                          f"got {MAP_TILES!r}")
    _tiles_origin = "/".join(MAP_TILES.split("/")[:3]).replace("{s}", "*")
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(_tiles_origin)

REST_FRAMEWORK = {
    # Token first: a request without credentials answers 401 with `WWW-Authenticate: Token` (session
    # first would answer 403). The web app uses the session (+ CSRF); integrations the token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "PAGE_SIZE": 20,
    # Unknown query parameters and absurd dates are refused (400), not ignored: api/filters.py.
    "DEFAULT_FILTER_BACKENDS": ["api.filters.StrictFilterBackend"],
    # JSON bodies: size-limited (413) and safe against absurd nesting (400): api/parsers.py.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser", "api.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "intake": env_str("INTAKE_THROTTLE_RATE", "20/hour"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GridCase API",
    "DESCRIPTION": "Case management for community grid governance (社区网格化治理).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `kind`; name each choice set after what it is.
    "ENUM_NAME_OVERRIDES": {
        "DedicatedKindEnum": "gridcase.grids.choices.DedicatedKind",
        "NotificationKindEnum": "gridcase.notifications.models.Kind",
        "NoticeKindEnum": "gridcase.notices.models.Kind",
        "NoticeAudienceEnum": "gridcase.notices.models.Audience",
        "NoticeStateEnum": "gridcase.notices.models.State",
        "VolunteerRoleEnum": "gridcase.volunteers.models.VolunteerRole",
        "RoleEnum": "gridcase.grids.choices.Role",
        "CheckInWellbeingEnum": "gridcase.volunteers.models.Wellbeing",
        "ContactKindEnum": "gridcase.visits.choices.ContactKind",
        "AttachmentKindEnum": "gridcase.cases.choices.AttachmentKind",
        "ResidentStatusEnum": "gridcase.grids.choices.ResidentStatus",
        "StatusEnum": "gridcase.cases.choices.Status",  # the case's status keeps its name beside the resident's
        "HotspotKindEnum": "gridcase.cases.choices.HotspotKind",
        "HotspotStatusEnum": "gridcase.cases.choices.HotspotStatus",
        "TopicLevelEnum": "gridcase.deliberation.models.TopicLevel",
        "DecisionMethodEnum": "gridcase.deliberation.models.DecisionMethod",
    },
}

# Failed logins (gridcase/core/loginguard.py explains the design): LOGIN_FAILURE_LIMIT per username+address
# within LOGIN_FAILURE_WINDOW seconds, then that address waits (doubling up to LOGIN_BACKOFF_MAX);
# LOGIN_THROTTLE_RATE failures per address over all usernames; past LOGIN_ACCOUNT_FAILURE_LIMIT failures a
# day on one account, devices that never signed in to it wait up to LOGIN_ACCOUNT_DELAY_MAX between tries.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 300)
LOGIN_BACKOFF_MAX = env_int("LOGIN_BACKOFF_MAX", 3600)
LOGIN_THROTTLE_RATE = env_str("LOGIN_THROTTLE_RATE", "30/hour")
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("LOGIN_ACCOUNT_FAILURE_LIMIT", 10)
LOGIN_ACCOUNT_DELAY_MAX = env_int("LOGIN_ACCOUNT_DELAY_MAX", 300)
try:
    from .core.loginguard import parse_rate

    parse_rate(LOGIN_THROTTLE_RATE)
except ValueError as exc:
    raise ConfigError(f"LOGIN_THROTTLE_RATE: {exc}")
if min(LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW, LOGIN_ACCOUNT_FAILURE_LIMIT, LOGIN_ACCOUNT_DELAY_MAX) < 1:
    raise ConfigError("LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW, LOGIN_ACCOUNT_FAILURE_LIMIT and "
                      "LOGIN_ACCOUNT_DELAY_MAX must be at least 1")
# Proxies in front of the app that append to X-Forwarded-For (nginx → gunicorn: 1). 0: the header is never
# trusted and REMOTE_ADDR is the client (gridcase/core/clientaddr.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ConfigError("TRUSTED_PROXY_COUNT must be 0 or more")

# API tokens (knox: stored hashed, one per login) expire TOKEN_TTL_HOURS after they were issued; a client
# swaps its token for a fresh one with POST /api/v1/auth/token/refresh/. Logout and any password change
# revoke them.
TOKEN_TTL_HOURS = env_int("TOKEN_TTL_HOURS", 24 * 7)
if TOKEN_TTL_HOURS < 1:
    raise ConfigError("TOKEN_TTL_HOURS must be at least 1")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# Celery. The embedded default needs no server: a broker on the filesystem.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = DATA_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Queues, so a 100,000-row export never delays a breach warning: production runs a worker per group
# (deploy/README.md, "Queues"); a worker started without -Q (make run, the tests) consumes them all.
CELERY_TASK_QUEUES = [Queue(name) for name in ("celery", "notifications", "sla", "rollups", "imports", "exports")]
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "gridcase.notifications.tasks.*": {"queue": "notifications"},
    "gridcase.interop.tasks.*": {"queue": "notifications"},  # 12345 callbacks go out through the outbox
    "gridcase.cases.tasks.sla_sweep": {"queue": "sla"},
    "gridcase.stats.tasks.*": {"queue": "rollups"},
    "gridcase.core.tasks.ensure_partitions": {"queue": "rollups"},  # daily upkeep, never urgent
    "gridcase.visits.tasks.compute_due_visits": {"queue": "rollups"},
    "gridcase.grids.tasks.*": {"queue": "imports"},
    "gridcase.jobs.tasks.*": {"queue": "exports"},
    "gridcase.campaigns.tasks.*": {"queue": "exports"},
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}  # filled by the domain apps' `beat.py` modules below

NOTIFICATION_CHANNELS = env_list("NOTIFICATION_CHANNELS", ["email"])
NOTIFICATION_WEBHOOK_URL = env_str("NOTIFICATION_WEBHOOK_URL", "")
NOTIFICATION_WEBHOOK_TIMEOUT = env_int("NOTIFICATION_WEBHOOK_TIMEOUT", 5)
# Webhook deliveries are signed (HMAC-SHA256, see deploy/README.md); production refuses to send unsigned.
NOTIFICATION_WEBHOOK_SECRET = env_str("NOTIFICATION_WEBHOOK_SECRET", "")
check_webhook_secret(NOTIFICATION_CHANNELS, NOTIFICATION_WEBHOOK_URL, NOTIFICATION_WEBHOOK_SECRET,
                     env_bool("GRIDCASE_DEV", True))
# A worker holds a delivery this long per claim and renews it while sending; a dead worker's claim expires.
NOTIFICATION_LEASE_SECONDS = env_int("NOTIFICATION_LEASE_SECONDS", 60)
# Interop (gridcase.interop): Open311 GeoReport v2 and the 12345 hotline link (README "Interop").
OPEN311_JURISDICTION_ID = env_str("OPEN311_JURISDICTION_ID", "")
# One secret shared with the hotline platform: it signs its pushes with it, and we sign our callbacks.
HOTLINE_SECRET = env_str("HOTLINE_SECRET", "")
HOTLINE_CALLBACK_URL = env_str("HOTLINE_CALLBACK_URL", "")
HOTLINE_CALLBACK_TIMEOUT = env_int("HOTLINE_CALLBACK_TIMEOUT", 5)
HOTLINE_TOLERANCE_SECONDS = env_int("HOTLINE_TOLERANCE_SECONDS", 300)
HOTLINE_AREA = env_str("HOTLINE_AREA", "")  # a grid code: tickets are routed inside its subtree (all if empty)
# Where users open the app: links in e-mails and webhook messages.
PUBLIC_URL = env_str("PUBLIC_URL", "http://localhost:8000").rstrip("/")
# Residents' QR intake (gridcase/intake: guard.py, duplicates.py, posters.py). INTAKE_THROTTLE_RATE (per address) is
# in REST_FRAMEWORK above; every write also counts against its QR token.
INTAKE_TOKEN_RATE = env_str("INTAKE_TOKEN_RATE", "60/hour")
INTAKE_MIN_FILL_SECONDS = env_int("INTAKE_MIN_FILL_SECONDS", 4)
INTAKE_DUPLICATE_METRES = env_int("INTAKE_DUPLICATE_METRES", 150)
INTAKE_DUPLICATE_DAYS = env_int("INTAKE_DUPLICATE_DAYS", 7)
INTAKE_MAX_DISTANCE_METRES = env_int("INTAKE_MAX_DISTANCE_METRES", 5000)  # from the grid's (or its street's) centroid
try:
    parse_rate(INTAKE_TOKEN_RATE)
except ValueError as exc:
    raise ConfigError(f"INTAKE_TOKEN_RATE: {exc}")
# Hotspots (未诉先办, gridcase/cases/hotspots.py): `count` cases of one category within `days` days in one building, one
# micro-grid or a circle of `metres`; or, in a general grid, this week's cases at least `rising_factor` × last week's
# and at least `rising_min`. Per category code over the defaults, e.g.
# HOTSPOT_RULES="safety_wiring:count=2,days=30;env_drain:metres=200".
HOTSPOT_DEFAULTS = {"count": env_int("HOTSPOT_COUNT", 3), "days": env_int("HOTSPOT_DAYS", 30),
                    "metres": env_int("HOTSPOT_METRES", 100), "rising_factor": 2.0, "rising_min": 4}
HOTSPOT_RULES = env_thresholds("HOTSPOT_RULES", HOTSPOT_DEFAULTS, {
    # Fire risks: twice is already a pattern.
    "safety_wiring": {"count": 2}, "safety_ebike": {"count": 2}, "safety_gas": {"count": 2}, "safety_fire": {"count": 2},
    # Litter and blocked drains recur by nature: only a run of them is news.
    "env_rubbish": {"count": 4, "days": 14}, "env_stairwell": {"count": 4},
})
# A CJK font file (.ttf/.ttc/.otf) embedded in the QR posters; default: Noto CJK or WenQuanYi where installed.
POSTER_FONT = env_str("POSTER_FONT", "")
# A TrueType CJK font embedded in the monthly report (gridcase/reports/fonts.py); default: WenQuanYi where installed.
REPORT_FONT = env_str("REPORT_FONT", "")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "gridcase@localhost")

# Logs (gridcase/core/requestid.py): JSON lines in production (LOG_FORMAT=json), readable text in development;
# UTC everywhere, each line with the request id that caused it (carried into Celery tasks).
LOG_FORMAT = env_str("LOG_FORMAT", "text" if GRIDCASE_DEV else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ConfigError(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "gridcase.core.requestid.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "gridcase.core.requestid.JsonFormatter"},
        "text": {"()": "gridcase.core.requestid.TextFormatter",
                 "format": "%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# Prometheus (gridcase/core/metrics.py): /metrics answers a scraper sending this bearer token; off while unset.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING above (JSON, UTC, request ids)

from .beat import BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE.update(BEAT_SCHEDULE)
