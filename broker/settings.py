"""Courtier settings: one module, driven by environment variables.

With no variable set, Courtier runs on the embedded default: a SQLite file,
Celery tasks executed eagerly in-process, e-mail printed on the console and
DEBUG off. Setting DATABASE_URL and REDIS_URL gives the production shape.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env(
    "SECRET_KEY",
    default="insecure-embedded-default-key-set-SECRET_KEY-in-production-0123456789",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "dsfr",
    # After dsfr (whose widget templates win): FORM_RENDERER = TemplatesSetting finds Django's own form templates here.
    "django.forms",
    "widget_tweaks",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "broker",
    "catalogue",
    "procurement",
    "audit",
    "csp",
    # Last, as its documentation asks: records login failures and locks out (see AXES_* below).
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "broker.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "broker.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a lockout raised during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "broker.urls"
WSGI_APPLICATION = "broker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "broker.site_config.site_config",
                "broker.context_processors.courtier",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Database: SQLite file by default, DATABASE_URL (postgres://...) in production.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a concurrent writer instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins: a deferred one that upgrades later fails at once with
    # "database is locked" (a 500) when another writer holds it, whatever the timeout (found by the API fuzz).
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # Covering indexes (INCLUDE) exist on PostgreSQL only; SQLite builds them without the extra columns.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            # Redis, but a page still answers when Redis cannot be reached (broker/cache.py).
            "BACKEND": "broker.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out client before any password is checked.
AUTHENTICATION_BACKENDS = [
    "broker.backends.LockoutBackend",
    "broker.backends.UserBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalogue:home"
LOGOUT_REDIRECT_URL = "catalogue:home"

# Internationalisation: French first, English available.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=False)

# E-mail: console by default; EMAIL_URL (smtp://...) or a file backend in production/tests.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Courtier <ne-pas-repondre@courtier.gouv.fr>")

# Security: secure defaults whenever DEBUG is off; HTTPS can be switched off for local serving.
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = SECURE_HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The language cookie follows the session cookie. The CSRF cookie stays readable by scripts on purpose: the API
# documentation (Swagger UI) sends it back as a header, and Django's documentation notes that an HttpOnly CSRF
# cookie protects nothing.
LANGUAGE_COOKIE_SECURE = SECURE_HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Content Security Policy (django-csp). Scripts come from this site's static files or carry the request's nonce
# (dsfr/base.html passes request.csp_nonce to the DSFR's loader); no inline script, no eval. Styles come from this
# site's files only: no template of ours, of django-dsfr's that we use, or of the admin needs inline styles (scripts
# that set element.style are not concerned by style-src). Images may be data: URIs, which the DSFR's CSS uses for
# icons. The API documentation pages widen this policy for themselves only (broker/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "upgrade-insecure-requests": SECURE_HTTPS,
        "report-uri": env("CSP_REPORT_URI", default="") or None,
    },
}

# Brute force (django-axes): after AXES_FAILURE_LIMIT failed logins for one username from one address, that pair is
# refused for AXES_COOLOFF_MINUTES, on the login page and on the token endpoint alike. The pair, not the username
# alone, so that nobody can lock an agent out from elsewhere, and not the address alone, so that one mistyping agent
# does not lock out a whole ministry behind one NAT address; guessing many usernames from one address is slowed down
# by the per-address throttles on both login channels (LOGIN_THROTTLE_RATE, TOKEN_THROTTLE_RATE).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The address the API throttles see too (REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES proxies).
AXES_CLIENT_IP_CALLABLE = "broker.throttling.client_address"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# REST API.
REST_FRAMEWORK = {
    # Token first: an anonymous request then answers 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "broker.backends.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    # JSON held to DATA_UPLOAD_MAX_MEMORY_SIZE like forms are (broker/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["broker.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_FILTER_BACKENDS": ["broker.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "broker.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "broker.schema.AutoSchema",
    "EXCEPTION_HANDLER": "broker.api.exception_handler",
    # Per signed-in user and per anonymous client address; the token endpoint and the login page have their own.
    "DEFAULT_THROTTLE_CLASSES": ["broker.throttling.AnonRateThrottle", "broker.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/minute"),
        "user": env("API_THROTTLE_USER", default="600/minute"),
        "auth_token": env("TOKEN_THROTTLE_RATE", default="20/minute"),
        "login": env("LOGIN_THROTTLE_RATE", default="20/minute"),
    },
    # Proxies in front of Courtier: with 1, the client address is the last entry of X-Forwarded-For.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Courtier API",
    "DESCRIPTION": "Catalogue de l'État des offres cloud qualifiées, commandes sous accord-cadre.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One component name for each choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "catalogue.countries.COUNTRY_CHOICES",
        "QualificationStatusEnum": "catalogue.models.QualificationStatus",
        "OrderStatusEnum": "procurement.models.OrderStatus",
        "FrameworkStatusEnum": "procurement.models.FrameworkStatus",
        # The vendor and review API (catalogue/api/vendor*.py, catalogue/api/opendata.py).
        "CertificationKindEnum": "catalogue.models.CertificationKind",
        "MilestoneEnum": "catalogue.models.Milestone",
        "OfferStateEnum": "catalogue.models.OfferState",
        "RevisionStateEnum": "catalogue.models.RevisionState",
    },
}

# Celery: eager in-process without REDIS_URL, Redis broker with it.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    "scan-qualifications-daily": {
        "task": "catalogue.tasks.scan_qualifications_task",
        "schedule": crontab(hour=6, minute=0),
        "options": {"expires": int(timedelta(hours=12).total_seconds())},
    },
    "send-pending-emails": {
        "task": "procurement.tasks.send_pending_emails_task",
        "schedule": timedelta(minutes=5),
        "options": {"expires": int(timedelta(minutes=4).total_seconds())},
    },
}

# Courtier.
DEMO_PASSWORD = env("DEMO_PASSWORD", default="")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# How long the observatory's figures are kept in the cache (seconds; 0: computed on every request).
OBSERVATORY_CACHE_SECONDS = env.int("OBSERVATORY_CACHE_SECONDS", default=300)
# How long catalogue facet counts and home figures are cached (seconds; every catalogue write invalidates; 0: none).
FACET_CACHE_SECONDS = env.int("FACET_CACHE_SECONDS", default=600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
