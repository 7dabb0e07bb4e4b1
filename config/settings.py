"""Settings for plan-admin: one module, every deployment-specific value from the environment.

See `.env.example` for the variables and README.md for the production set.
"""

import datetime
import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# A missing SECRET_KEY gets a throw-away one so that tests and `manage.py` work; config/wsgi.py refuses to
# serve with it when DEBUG is off, and `check --deploy` reports it.
SECRET_KEY_FROM_ENV = bool(env.str("SECRET_KEY", default=""))
SECRET_KEY = env.str("SECRET_KEY", default="") or get_random_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.PlanAdminAdminConfig",  # django.contrib.admin with the plan's own AdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "plan_admin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "plan_admin.security.headers.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "plan_admin.middleware.RejectUndecodableFormMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "plan_admin.security.sessions.SessionLifetimeMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "plan_admin.two_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# A company adapts the resolution documents by copying templates/plan_admin/resolutions/*.html into this directory
# (same relative paths) and editing them there: it is searched before the app's own templates.
RESOLUTION_TEMPLATES_DIR = env.str("RESOLUTION_TEMPLATES_DIR", default="")

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [*([Path(RESOLUTION_TEMPLATES_DIR)] if RESOLUTION_TEMPLATES_DIR else []), BASE_DIR / "templates"],
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

SQLITE_DEFAULT_PATH = BASE_DIR / "db.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_DEFAULT_PATH}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes every transaction take SQLite's write lock at BEGIN, so writers serialize the way
    # select_for_update serializes them on PostgreSQL. The test database is a file, not shared-cache memory,
    # so that threads in the concurrency tests wait on the lock instead of failing with "table is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 30}
    # Django's SQLite backend with a flush that keeps the append-only triggers (plan_admin/db/append_only.py).
    DATABASES["default"]["ENGINE"] = "plan_admin.db.sqlite3"
    # One file per test process, so that test runs side by side never share (or delete) each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # The ledger's hot path (plan_admin/services/ledger_sql.py) prepares its few statements once per connection
    # (parsing and planning its one big write statement cost more than running it). Django leaves psycopg's
    # prepared statements off for connection poolers; its ORM queries stay unprepared either way (client-side
    # binding). Behind PgBouncer in transaction mode before 1.21, set DATABASE_PREPARED_STATEMENTS=false.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
NUMBER_GROUPING = 3

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG  # serve straight from static/ in development; production runs collectstatic
# Resolutions' PDFs (the document for signature and the signed, sealed one), with their SHA-256 in the database.
# On disk under RESOLUTION_FILES_DIR by default; any Django storage (django-storages: S3, Azure, GCS) through
# RESOLUTION_STORAGE_BACKEND and its options as JSON in RESOLUTION_STORAGE_OPTIONS. Never served from a public URL.
RESOLUTION_FILES_DIR = env.str("RESOLUTION_FILES_DIR", default=str(BASE_DIR / "var" / "resolutions"))
RESOLUTION_STORAGE_BACKEND = env.str(
    "RESOLUTION_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
)
_RESOLUTION_STORAGE_OPTIONS = env.json("RESOLUTION_STORAGE_OPTIONS", default={})
if RESOLUTION_STORAGE_BACKEND.endswith("FileSystemStorage"):
    _RESOLUTION_STORAGE_OPTIONS = {
        "location": RESOLUTION_FILES_DIR,
        "base_url": None,
        "file_permissions_mode": 0o640,
        **_RESOLUTION_STORAGE_OPTIONS,
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "resolutions": {"BACKEND": RESOLUTION_STORAGE_BACKEND, "OPTIONS": _RESOLUTION_STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": env.str("STATICFILES_BACKEND", default="django.contrib.staticfiles.storage.StaticFilesStorage")
    },
}

# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto, and read the client's address from
# X-Forwarded-For, TRUSTED_PROXY_COUNT entries from the right (the entry our own proxy wrote), for login protection.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# Login protection (django-axes): after AXES_FAILURE_LIMIT failed logins for one username from one client address,
# that pair is locked out for AXES_COOLOFF_MINUTES; after LOGIN_FAILURES_PER_ADDRESS failed logins from one address,
# whatever the usernames (password spraying), the address is. A successful login resets its pair's count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "plan_admin.security.login_protection.client_ip_address"
AXES_HANDLER = "plan_admin.security.login_protection.AddressLimitHandler"
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# A second factor (an authenticator app's code, django-otp) for every role that can change the ledger or decide
# (board members, plan staff, superusers); on in production. Enrolment only through a one-time link a superuser
# issues (valid SECOND_FACTOR_ENROLMENT_HOURS). BOARD_REQUIRES_SECOND_FACTOR is the old name, still read.
REQUIRE_SECOND_FACTOR = env.bool(
    "REQUIRE_SECOND_FACTOR", default=env.bool("BOARD_REQUIRES_SECOND_FACTOR", default=False)
)
SECOND_FACTOR_ENROLMENT_HOURS = env.int("SECOND_FACTOR_ENROLMENT_HOURS", default=24)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="plan-admin")

# Sessions end after SESSION_IDLE_SECONDS without a request, SESSION_ABSOLUTE_SECONDS after login whatever
# the activity, and when the browser closes (plan_admin.security.sessions). Activity is recorded to the minute.
# (SESSION_COOKIE_AGE is the name this setting had before: still read.) Django's own expiry of the stored session
# is a backstop a few minutes later, so that the check here, with its message, is what the user meets.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60))
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_ACTIVITY_RESOLUTION = 60
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS + 5 * SESSION_ACTIVITY_RESOLUTION
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# Production hardening: README.md lists the values that make `check --deploy` clean.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, images and fonts from this site only; no inline script or
# style anywhere (the templates use classes, and SVG attributes for bar widths), no plugins, no framing, forms post
# only here. The admin's own templates need nothing more; its icons are static SVG files. `data:` images are
# allowed for the SVG icons some browsers inline from the admin's stylesheets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-src": [SELF],  # a resolution's PDF, read in its page (plan_admin/board/views.py)
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# Permissions-Policy (plan_admin.security.headers.SecurityHeadersMiddleware): browser features this site never uses.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Resolutions of the board (README: Resolutions). The seal key signs every signed resolution (pyHanko); production
# reads its paths from the environment; `make run` creates a demo pair under var/seal/ (never committed).
RESOLUTION_SEAL_KEY = env.str("RESOLUTION_SEAL_KEY", default="")
RESOLUTION_SEAL_CERT = env.str("RESOLUTION_SEAL_CERT", default="")
RESOLUTION_SEAL_KEY_PASSPHRASE = env.str("RESOLUTION_SEAL_KEY_PASSPHRASE", default="")
RESOLUTION_SEAL_LOCATION = env.str("RESOLUTION_SEAL_LOCATION", default="plan-admin")
RESOLUTION_DOCUMENT_TEMPLATE = "plan_admin/resolutions/document.html"
RESOLUTION_SIGNATURE_PAGE_TEMPLATE = "plan_admin/resolutions/signature_page.html"
RESOLUTION_REMINDER_DAYS = env.int("RESOLUTION_REMINDER_DAYS", default=3)
# The address emails link to (no request is at hand when cron sends reminders).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Email: Django's SMTP backend in production, configured here from the environment; `make run` uses the console.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="plan-admin <plan-admin@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Uploads: a spreadsheet import larger than this is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# The most one spreadsheet import may spend reading and checking its file before it is refused.
IMPORT_TIME_BUDGET_SECONDS = env.float("IMPORT_TIME_BUDGET_SECONDS", default=120.0)

# Open Cap Format: the official OCF 1.2.0 JSON schemas, read from here (offline) to validate every package exported
# or imported (plan_admin/interop/). They are not copied into the project.
OCF_SCHEMA_DIR = Path(env.str("OCF_SCHEMA_DIR", default=str(BASE_DIR.parent / "shared" / "ocf-1.2.0" / "schema")))
# An uploaded OCF package (a .zip) larger than this is refused before it is read; its files may expand to at most
# OCF_IMPORT_MAX_UNCOMPRESSED_BYTES.
OCF_IMPORT_MAX_BYTES = env.int("OCF_IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
OCF_IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("OCF_IMPORT_MAX_UNCOMPRESSED_BYTES", default=1024 * 1024 * 1024)

# django-import-export: nobody imports or exports without the plan's own permissions.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"  # checks plan_admin.import_<model>
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"  # checks plan_admin.export_<model>
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
