"""Latchkey settings. The environment is read here and nowhere else (see portal/env.py)."""

from __future__ import annotations

import re
from pathlib import Path

import dj_database_url

from portal.env import (
    EnvError,
    env_bool,
    env_endpoints,
    env_float,
    env_int,
    env_json,
    env_list,
    env_networks,
    env_retention,
    env_secret,
    env_str,
    url_with_password,
)
from portal.oidc_config import parse_oidc_providers, parse_provider_trust
from portal.sealing import check_keys, derived_key

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("LATCHKEY_DEBUG", False)
# The dev default only works with DEBUG on, so a production deployment cannot start with it.
SECRET_KEY = env_secret("LATCHKEY_SECRET_KEY") or ("dev-only-insecure-key" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("LATCHKEY_SECRET_KEY (or LATCHKEY_SECRET_KEY_FILE) must be set when LATCHKEY_DEBUG is off")
ALLOWED_HOSTS = env_list("LATCHKEY_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("LATCHKEY_CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env_str("LATCHKEY_SITE_NAME", "Latchkey")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.idp.oidc",
    "rest_framework",
    "drf_spectacular",
    "heartbeats",
    "accounts",
    "projects",
    "keys",
    "usage",
    "buckets",
    "lifecycle",
    "web",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.security.SecurityHeadersMiddleware",
    "portal.ratelimit.LoginCallbackLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.EndedSessionsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("LATCHKEY_DATABASE_URL", f"sqlite:///{BASE_DIR / '.stack' / 'dev' / 'latchkey.sqlite3'}"),
        # Reusing connections saves ~3 ms a request (measured by make bench); health checks
        # replace a connection the database closed.
        conn_max_age=env_int("LATCHKEY_DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # make run: the web, the worker and beat write to one SQLite file at once. WAL lets readers
    # go on while one writes; IMMEDIATE takes the write lock when a transaction begins (a read
    # that later wants to write cannot then deadlock with another writer, which SQLite answers
    # at once with "database is locked"); and a writer waits up to 20 s for the one before it.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
# LATCHKEY_DATABASE_PASSWORD(_FILE): the database password as a secret file, not in the URL.
if _database_password := env_secret("LATCHKEY_DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = _database_password
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("LATCHKEY_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("LATCHKEY_STATIC_ROOT", str(BASE_DIR / ".stack" / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# HTTPS: behind a TLS-terminating proxy set LATCHKEY_PROXY_SSL_HEADER=true (it must set
# X-Forwarded-Proto). HSTS and the redirect are on unless DEBUG; the health endpoints are exempt
# from the redirect so a load balancer can probe over plain HTTP.
if env_bool("LATCHKEY_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("LATCHKEY_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
# /metrics: when set, Prometheus must send it as a bearer token.
LATCHKEY_METRICS_TOKEN = env_secret("LATCHKEY_METRICS_TOKEN", "") or ""
SECURE_HSTS_SECONDS = env_int("LATCHKEY_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
# Both cover only names under Latchkey's own host name (e.g. *.latchkey.example.org); "preload" in
# the header does not submit the site anywhere. Turn them off if that host's subdomains use HTTP.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("LATCHKEY_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("LATCHKEY_HSTS_PRELOAD", True)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("LATCHKEY_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("LATCHKEY_SESSION_SECONDS", 8 * 3600, minimum=300)

# --- Login: only through the upstream OpenID providers (there are no local passwords) ---
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",  # the Django admin for operators
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "projects:list"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
SOCIALACCOUNT_ONLY = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = False  # two federated identities may share an address; see accounts/adapter.py
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
# allauth keeps no upstream token; Latchkey keeps only the refresh token, sealed (accounts.UpstreamGrant).
SOCIALACCOUNT_STORE_TOKENS = False
# Keys sealing stored tokens (portal/sealing.py): comma-separated Fernet keys, the first seals,
# all open; derived from SECRET_KEY when unset.
try:
    LATCHKEY_TOKEN_KEYS = check_keys(
        [k.strip() for k in (env_secret("LATCHKEY_TOKEN_KEYS", "") or "").split(",") if k.strip()]
        or [derived_key(SECRET_KEY)]
    )
except ValueError as _exc:
    raise EnvError(f"LATCHKEY_TOKEN_KEYS: {_exc}") from None
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"  # allauth's rate limits see our client address
# Reverse proxies whose X-Forwarded-For is believed (portal/http.py client_ip); empty: none.
LATCHKEY_TRUSTED_PROXIES = env_networks("LATCHKEY_TRUSTED_PROXIES")
_OIDC_PROVIDERS = env_json("LATCHKEY_OIDC_PROVIDERS", [])
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": parse_oidc_providers(_OIDC_PROVIDERS)}}
# What each provider may assert: its entitlement namespaces (none: no memberships) and projects.
LATCHKEY_PROVIDER_TRUST = parse_provider_trust(_OIDC_PROVIDERS)
# Project memberships come from this claim (AARC-G002 entitlements by default); see projects/entitlements.py.
LATCHKEY_ENTITLEMENT_CLAIM = env_str("LATCHKEY_ENTITLEMENT_CLAIM", "eduperson_entitlement")
LATCHKEY_ENTITLEMENT_PATTERN = env_str(
    "LATCHKEY_ENTITLEMENT_PATTERN",
    r"^urn:[^#]*:group:(?:[^:#]+:)*project_(?P<project>[0-9]{3,20})(?::role=(?P<role>[a-z-]+))?(?:#.*)?$",
)

# --- Ceph RADOS Gateway ---
LATCHKEY_RGW_ADMIN_URL = env_str("LATCHKEY_RGW_ADMIN_URL", "http://127.0.0.1:7480")
LATCHKEY_RGW_ADMIN_ACCESS_KEY = env_secret("LATCHKEY_RGW_ADMIN_ACCESS_KEY", "") or ""
LATCHKEY_RGW_ADMIN_SECRET_KEY = env_secret("LATCHKEY_RGW_ADMIN_SECRET_KEY", "") or ""
LATCHKEY_RGW_TIMEOUT = env_float("LATCHKEY_RGW_TIMEOUT", 10.0, minimum=0.1)
# Attempts for an admin call that rewrites a user record while radosgw refuses it as a concurrent
# change (storage/client.py); with the jittered backoff, 10 attempts wait at most about 3 s.
LATCHKEY_RGW_CONFLICT_ATTEMPTS = env_int("LATCHKEY_RGW_CONFLICT_ATTEMPTS", 10, minimum=1, maximum=50)
# What users put in their client configs; may differ from the admin URL (e.g. a public https name).
LATCHKEY_S3_ENDPOINT = env_str("LATCHKEY_S3_ENDPOINT", LATCHKEY_RGW_ADMIN_URL)
# The endpoints users can choose for their client configs (e.g. internal http and external https,
# as JASMIN and OSiRIS offer), "name=url,name=url"; the first is the default.
LATCHKEY_S3_ENDPOINTS = env_endpoints("LATCHKEY_S3_ENDPOINTS", LATCHKEY_S3_ENDPOINT)
# The zonegroup's api_name (`radosgw-admin zonegroup get`): the only region every client accepts.
LATCHKEY_S3_REGION = env_str("LATCHKEY_S3_REGION", "default")

# An invitation not answered within this many days can no longer be accepted.
LATCHKEY_INVITATION_DAYS = env_int("LATCHKEY_INVITATION_DAYS", 14, minimum=1, maximum=365)

# --- Keys ---
# Site-wide longest lifetime (at creation and as now + N on extension); projects may lower it.
LATCHKEY_KEY_MAX_HOURS = env_int("LATCHKEY_KEY_MAX_HOURS", 168, minimum=1, maximum=168)
LATCHKEY_KEY_DESCRIPTION_MAX = 200
LATCHKEY_KEY_MAX_ACTIVE = env_int("LATCHKEY_KEY_MAX_ACTIVE", 10, minimum=1)
# The most buckets one bucket-scoped key may name (each is a statement in that bucket's policy).
LATCHKEY_KEY_MAX_BUCKETS = env_int("LATCHKEY_KEY_MAX_BUCKETS", 10, minimum=1, maximum=100)
# "reauth": the owner may view a secret again after a fresh login at their IdP (LUMI-O);
# "never": the secret is shown once, at creation (JASMIN).
# Where new projects live in Ceph (storage/homes.py): "tenant", or "account" (RGW accounts, Ceph 19
# and later: each key an IAM user whose own policy carries its rights and its end), or "auto": an
# account where the cluster has accounts, else a tenant (asked of radosgw once per process).
# Existing projects keep theirs.
LATCHKEY_STORAGE_MODEL = env_str("LATCHKEY_STORAGE_MODEL", "auto")
if LATCHKEY_STORAGE_MODEL not in ("auto", "tenant", "account"):
    raise RuntimeError("LATCHKEY_STORAGE_MODEL must be 'auto', 'tenant' or 'account'")
LATCHKEY_REVEAL_POLICY = env_str("LATCHKEY_REVEAL_POLICY", "reauth")
if LATCHKEY_REVEAL_POLICY not in ("reauth", "never"):
    raise RuntimeError("LATCHKEY_REVEAL_POLICY must be 'reauth' or 'never'")
LATCHKEY_REAUTH_SECONDS = env_int("LATCHKEY_REAUTH_SECONDS", 600, minimum=30, maximum=3600)
LATCHKEY_REMINDER_HOURS = sorted({int(h) for h in env_list("LATCHKEY_REMINDER_HOURS", ["24", "1"])}, reverse=True)
# Usage history (usage/): a point per project and bucket at every usage refresh, thinned with age
# by usage.tasks.usage_prune_task: every point for 2 days, one an hour for 30, one a day for 2 years.
LATCHKEY_USAGE_KEEP = env_retention("LATCHKEY_USAGE_KEEP", "2d:all,30d:1h,730d:1d")
# The project page charts the project and its largest buckets (each a line).
LATCHKEY_USAGE_CHART_BUCKETS = env_int("LATCHKEY_USAGE_CHART_BUCKETS", 5, minimum=0, maximum=5)
# The hourly reconcile reports keys in Ceph that Latchkey did not issue; remove them too?
LATCHKEY_RECONCILE_REMOVE_UNKNOWN = env_bool("LATCHKEY_RECONCILE_REMOVE_UNKNOWN", False)
LATCHKEY_BASE_URL = env_str("LATCHKEY_BASE_URL", "http://127.0.0.1:8000")

# --- E-mail (expiry reminders) ---
EMAIL_HOST = env_str("LATCHKEY_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("LATCHKEY_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("LATCHKEY_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_secret("LATCHKEY_EMAIL_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("LATCHKEY_EMAIL_STARTTLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("LATCHKEY_EMAIL_FROM", "Latchkey <latchkey@localhost>")
EMAIL_BACKEND = env_str("LATCHKEY_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# --- Celery ---
# LATCHKEY_REDIS_PASSWORD(_FILE): Redis's requirepass, kept out of the URL people see and set.
REDIS_URL = url_with_password(
    env_str("LATCHKEY_REDIS_URL", "redis://127.0.0.1:6379/0"), env_secret("LATCHKEY_REDIS_PASSWORD")
)
CELERY_BROKER_URL = REDIS_URL
# Rate-limit counters (ours and allauth's) and cached token checks, shared by every process; in
# process memory while Redis is unreachable (portal/cache.py).
CACHES = {"default": {"BACKEND": "portal.cache.SharedCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "latchkey"}}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Exact-time expiry jobs are queued at most two sweeps ahead, far inside this timeout, so
# Redis never redelivers a waiting ETA task; a worker that dies loses them, and the sweep
# catches up (keys/services.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 900}
CELERY_TIMEZONE = "UTC"
# How often every account holding a live key or a CLI session is asked about at its upstream
# provider (lifecycle/recheck.py): the longest a person removed there keeps access.
LATCHKEY_MEMBERSHIP_RECHECK_SECONDS = env_int("LATCHKEY_MEMBERSHIP_RECHECK_SECONDS", 3600, minimum=5, maximum=86400)
LATCHKEY_SWEEP_SECONDS = env_int("LATCHKEY_SWEEP_SECONDS", 60, minimum=1, maximum=60)
# Prove each revocation by S3 itself: before removing a key, read its secret from Ceph (memory
# only); afterwards a request signed with it must be refused at every endpoint listed here
# (default: the S3 endpoints; list each gateway's own address to check every one). An endpoint
# that still accepts it is an alarm (log, latchkey_revocation_unproven) and the key stays active,
# so the next sweep removes it again.
LATCHKEY_VERIFY_REVOCATION = env_bool("LATCHKEY_VERIFY_REVOCATION", False)
LATCHKEY_VERIFY_REVOCATION_ENDPOINTS = env_list(
    "LATCHKEY_VERIFY_REVOCATION_ENDPOINTS", [url for _, url in LATCHKEY_S3_ENDPOINTS]
)
CELERY_BEAT_SCHEDULE = {
    "keys-sweep": {"task": "keys.tasks.keys_sweep_task", "schedule": float(LATCHKEY_SWEEP_SECONDS)},
    "memberships-finish-ending": {"task": "lifecycle.tasks.memberships_finish_ending_task", "schedule": 300.0},
    # A role downgrade Ceph refused must not leave the higher access level in place for long.
    "memberships-apply-stale": {"task": "lifecycle.tasks.memberships_apply_stale_task", "schedule": 60.0},
    "keys-send-reminders": {"task": "keys.tasks.keys_send_reminders_task", "schedule": 300.0},
    "keys-reconcile": {"task": "keys.tasks.keys_reconcile_task", "schedule": 3600.0},
    "projects-refresh-usage": {"task": "buckets.tasks.projects_refresh_usage_task", "schedule": 600.0},
    "grants-expire": {"task": "buckets.tasks.grants_expire_task", "schedule": 60.0},
    # Keys that carry their own rights (RGW accounts): a rewrite Ceph refused, or one that raced a
    # key's creation, is done again within a minute (buckets/key_rights.py).
    "keys-rights-sync": {"task": "buckets.tasks.keys_rights_sync_task", "schedule": 60.0},
    "policies-check": {"task": "buckets.tasks.policies_check_task", "schedule": 600.0},
    "usage-prune": {"task": "usage.tasks.usage_prune_task", "schedule": 3600.0},
    "memberships-recheck": {
        "task": "lifecycle.tasks.memberships_recheck_task",
        "schedule": float(LATCHKEY_MEMBERSHIP_RECHECK_SECONDS),
    },
}

# Rate limits, "count/seconds" (portal/ratelimit.py): per user for keys and reveals, per client
# address for login callbacks.
LATCHKEY_RATE_LIMITS = {
    "key_create": env_str("LATCHKEY_RATE_KEY_CREATE", "20/600"),
    "reveal": env_str("LATCHKEY_RATE_REVEAL", "10/600"),
    "login_callback": env_str("LATCHKEY_RATE_LOGIN_CALLBACK", "30/60"),
    # Password tries at /admin/login/ per address (operators log in there).
    "admin_login": env_str("LATCHKEY_RATE_ADMIN_LOGIN", "10/600"),
    # Bearer tokens that no provider vouches for, per address: guessing, or a flood that would
    # keep web workers waiting on the providers.
    "bearer_failure": env_str("LATCHKEY_RATE_BEARER_FAILURE", "30/60"),
}
for _scope, _rate in LATCHKEY_RATE_LIMITS.items():
    if not re.fullmatch(r"[1-9][0-9]*/[1-9][0-9]*", _rate):
        raise EnvError(f"rate limit for {_scope}: expected count/seconds, e.g. 20/600, got {_rate!r}")

# --- Latchkey's own OpenID provider (allauth.idp.oidc) and the REST API ---
# The key that signs its ID tokens: LATCHKEY_OIDC_PRIVATE_KEY(_FILE), a PEM RSA key (the stack
# scripts make one per stack). Only a DEBUG run may go without one, with a key made at start.
IDP_OIDC_PRIVATE_KEY = env_secret("LATCHKEY_OIDC_PRIVATE_KEY", "") or ""
if not IDP_OIDC_PRIVATE_KEY:
    if not DEBUG:
        raise EnvError("LATCHKEY_OIDC_PRIVATE_KEY or LATCHKEY_OIDC_PRIVATE_KEY_FILE is required")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    IDP_OIDC_PRIVATE_KEY = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN = env_int("LATCHKEY_API_TOKEN_SECONDS", 3600, minimum=60, maximum=86400)
IDP_OIDC_DEVICE_CODE_EXPIRES_IN = 600
# A CLI login (its refresh token) ends after this many days without use; each refresh issues a
# new token (rotation) and is refused once the account is deactivated. Without a limit a lost
# laptop's login would work for ever.
LATCHKEY_CLI_SESSION_DAYS = env_int("LATCHKEY_CLI_SESSION_DAYS", 30, minimum=1, maximum=365)
IDP_OIDC_REFRESH_TOKEN_EXPIRES_IN = LATCHKEY_CLI_SESSION_DAYS * 86400
IDP_OIDC_ROTATE_REFRESH_TOKEN = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.LatchkeyTokenAuthentication",
        "api.authentication.UpstreamTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.LatchkeySchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Latchkey API",
    "DESCRIPTION": "S3 keys, client configs, buckets and grants for Latchkey's projects.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Two "kind" enums (grants, key scopes): each its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "KeyScopeKindEnum": "keys.models.AccessKey.Scope",
        "GrantKindEnum": "buckets.models.Grant.Kind",
    },
}

LATCHKEY_LOG_FORMAT = env_str("LATCHKEY_LOG_FORMAT", "plain")
if LATCHKEY_LOG_FORMAT not in ("plain", "json"):
    raise EnvError(f"LATCHKEY_LOG_FORMAT: plain or json, got {LATCHKEY_LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "portal.logformat.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LATCHKEY_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LATCHKEY_LOG_LEVEL", "INFO")},
    # rgwadmin and botocore log request URLs and headers at DEBUG; keep them quiet.
    "loggers": {
        "rgwadmin": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
