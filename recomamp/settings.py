"""RecomAMP settings. Everything comes from the environment (django-environ); a `.env` file is optional.

Development (DEBUG=true, the default) generates missing secrets once into .local/secrets.json and starts an
embedded PostgreSQL under .local/pgdata when DATABASE_URL is unset. Production (DEBUG=false) refuses to start
without its secrets. The README lists every variable with its default.
"""

from pathlib import Path

import environ

from recomamp.bootstrap import (
    ConfigError,
    check_database_url,
    embedded_database,
    load_or_create_local_secrets,
    parse_fernet_keys,
)
from recomamp.object_storage import results_storage

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)


def _secret(name: str, local: dict | None) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if local is not None:
        return local[name]
    raise ConfigError(f"{name} is not set: production (DEBUG=false) requires it in the environment; see README.md")


_local_secrets = load_or_create_local_secrets(LOCAL_DIR / "secrets.json") if DEBUG else None
SECRET_KEY = _secret("SECRET_KEY", _local_secrets)
FERNET_KEYS = parse_fernet_keys(_secret("FERNET_KEYS", _local_secrets))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a reverse proxy: the header it sets to the client's address (e.g. X-Forwarded-For); empty = REMOTE_ADDR.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_q",
    "recomamp",
    "recomamp.sandbox",
    "accounts",
    "instances",
    "queries",
    "executions",
    "schedules",
    "guides",
    "brands",
    "runsets",
    "dashboards",
    "home",  # the home page and the demo sit above every app
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "recomamp.user_timezone.UserTimezoneMiddleware",  # instants shown in the user's zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "recomamp.edge.RejectBadInputMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "recomamp.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "recomamp.urls"
WSGI_APPLICATION = "recomamp.wsgi.application"

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
                "recomamp.context_processors.site",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- Database: PostgreSQL only (schedules rely on row locks) ---------------------------------------------
if env.str("DATABASE_URL", default=""):
    check_database_url(env.str("DATABASE_URL"))
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {"default": embedded_database(LOCAL_DIR / "pgdata", env.str("EMBEDDED_DB_NAME", default="recomamp"))}
# Health checks and bounded reuse: the earlier system suffered "connection closed" errors from stale connections.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The submission's fixed statements are prepared once per session (recomamp/prepared.py); off behind a
# transaction-mode pooler, where one session serves many connections.
PREPARED_STATEMENTS = env.bool("PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
FORMAT_MODULE_PATH = ["recomamp.formats"]  # one date format across the app (recomamp/formats/en/formats.py)
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(LOCAL_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": results_storage(env),  # the local disk, or an S3 bucket when AWS_STORAGE_BUCKET_NAME is set
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- E-mail -------------------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="RecomAMP <recomamp@localhost>")

# --- AMC and Login with Amazon --------------------------------------------------------------------------------
# The sandbox serves AMC's and LWA's HTTP APIs from this app under /sandbox/. On by default in development.
AMC_SANDBOX_ENABLED = env.bool("AMC_SANDBOX_ENABLED", default=DEBUG)
_sandbox_base = f"{SITE_URL}/sandbox"
_default_amc_base = _sandbox_base if AMC_SANDBOX_ENABLED else ""
AMC_API_BASE_URL = env.str("AMC_API_BASE_URL", default="")
AMC_API_BASE_URLS = {
    "NA": env.str("AMC_API_BASE_URL_NA", default=AMC_API_BASE_URL or _default_amc_base or "https://advertising-api.amazon.com"),
    "EU": env.str(
        "AMC_API_BASE_URL_EU",
        default=AMC_API_BASE_URL or (_default_amc_base and f"{_default_amc_base}/eu") or "https://advertising-api-eu.amazon.com",
    ),
    "FE": env.str(
        "AMC_API_BASE_URL_FE",
        default=AMC_API_BASE_URL or (_default_amc_base and f"{_default_amc_base}/fe") or "https://advertising-api-fe.amazon.com",
    ),
}
LWA_AUTHORIZE_URL = env.str(
    "LWA_AUTHORIZE_URL", default=f"{_sandbox_base}/ap/oa" if AMC_SANDBOX_ENABLED else "https://www.amazon.com/ap/oa"
)
LWA_TOKEN_URL = env.str(
    "LWA_TOKEN_URL",
    default=f"{_sandbox_base}/auth/o2/token" if AMC_SANDBOX_ENABLED else "https://api.amazon.com/auth/o2/token",
)
LWA_SCOPE = env.str("LWA_SCOPE", default="advertising::campaign_management")
AMAZON_CLIENT_ID = env.str("AMAZON_CLIENT_ID", default="sandbox-client-id" if AMC_SANDBOX_ENABLED else "")
AMAZON_CLIENT_SECRET = env.str("AMAZON_CLIENT_SECRET", default="sandbox-client-secret" if AMC_SANDBOX_ENABLED else "")
if not DEBUG and not AMC_SANDBOX_ENABLED and not (AMAZON_CLIENT_ID and AMAZON_CLIENT_SECRET):
    raise ConfigError("AMAZON_CLIENT_ID and AMAZON_CLIENT_SECRET are required in production; see README.md")
AMC_REQUEST_TIMEOUT = env.float("AMC_REQUEST_TIMEOUT", default=30.0)
AMC_MAX_ATTEMPTS = env.int("AMC_MAX_ATTEMPTS", default=4)
# Sandbox behaviour (defaults live in recomamp/sandbox/conf.py); set here only when given in the environment,
# so worker processes started by tests and benchmarks share one configuration.
for _name in ("SANDBOX_PENDING_SECONDS", "SANDBOX_RUNNING_SECONDS", "SANDBOX_ROWS_PER_FILE"):
    if env.str(_name, default=""):
        vars()[_name] = env.float(_name)
if env.str("SANDBOX_FAULTS", default=""):
    SANDBOX_FAULTS = env.json("SANDBOX_FAULTS")
EXECUTION_POLL_CONCURRENCY = env.int("EXECUTION_POLL_CONCURRENCY", default=8)
# A worker submitting, polling or fetching holds the execution's lease and renews it every heartbeat, so a dead
# worker's step is taken over within one lease (executions/leases.py). Keep several heartbeats per lease.
EXECUTION_LEASE_SECONDS = env.int("EXECUTION_LEASE_SECONDS", default=30)
EXECUTION_HEARTBEAT_SECONDS = env.float("EXECUTION_HEARTBEAT_SECONDS", default=10)
SANDBOX_DATA_PATH = Path(env.str("SANDBOX_DATA_PATH", default=str(LOCAL_DIR / "sandbox" / "amc.duckdb")))

# --- Background work (django-q2, ORM broker on the same database by default) --------------------------------
Q_CLUSTER = {
    "name": "recomamp",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=660),  # must exceed timeout, or tasks are delivered twice while running
    "max_attempts": 3,
    "catch_up": False,  # our dispatcher has its own missed-slot policy
    "save_limit": 1000,
    "label": "Background tasks",
    "poll": 1,
}
if env.str("REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"

# --- Security -------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept default for clarity
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "recomamp.logging.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "recomamp.logging.JSONLinesFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="plain"),  # "json" for log shippers
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # runserver's access log goes through the redacting handler too (OAuth codes, signed links).
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# A database cache: shared by every web and worker process (login throttling, short-lived UI state).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "recomamp_cache"}}
SCHEDULE_COST_PER_TABLE_DAY = env.str("SCHEDULE_COST_PER_TABLE_DAY", default="0.05")
