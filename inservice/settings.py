"""Settings for 全國教師在職進修資訊網, read from the environment.

Nothing set gives the embedded default used by `make demo` and a quick local run: a SQLite file,
Celery tasks run eagerly, email printed to the console. DATABASE_URL and REDIS_URL switch to the
real services; DJANGO_DEBUG=0 is production and refuses to start without a secret key.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from inservice.deploy import DEMO_NATIONAL_ID_FERNET_KEY, DEMO_NATIONAL_ID_HMAC_KEY, DEMO_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    # Strict on purpose (as healthchecks does): a typo such as "flase" must not silently mean True.
    value = os.environ.get(name, default)
    if value not in ("0", "1"):
        raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}")
    return value == "1"


def envsecret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (docker secrets)."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", "1")

# The demo keys are public; the production entry point refuses them (inservice.deploy).
SECRET_KEY = envsecret("DJANGO_SECRET_KEY", None if not DEBUG else DEMO_SECRET_KEY)
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG=0")

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "" if not DEBUG else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS")

# National IDs (SPEC §9): an HMAC key for the look-up digest and a Fernet key for the protected
# copy, both kept outside the database. The demo falls back to keys derived from the demo secret.
# A rotation (docs/operations.md) lists several, comma-separated, in NATIONAL_ID_HMAC_KEYS and
# NATIONAL_ID_FERNET_KEYS: the first one writes, every one reads (look-ups try every digest).
NATIONAL_ID_HMAC_KEYS = [
    k.strip() for k in (envsecret("NATIONAL_ID_HMAC_KEYS") or "").split(",") if k.strip()
]
NATIONAL_ID_FERNET_KEYS = [
    k.strip() for k in (envsecret("NATIONAL_ID_FERNET_KEYS") or "").split(",") if k.strip()
]
NATIONAL_ID_HMAC_KEY = (NATIONAL_ID_HMAC_KEYS or [None])[0] or envsecret(
    "NATIONAL_ID_HMAC_KEY", None if not DEBUG else DEMO_NATIONAL_ID_HMAC_KEY
)
NATIONAL_ID_FERNET_KEY = (NATIONAL_ID_FERNET_KEYS or [None])[0] or envsecret(
    "NATIONAL_ID_FERNET_KEY", None if not DEBUG else DEMO_NATIONAL_ID_FERNET_KEY
)
if not NATIONAL_ID_HMAC_KEY or not NATIONAL_ID_FERNET_KEY:
    raise ImproperlyConfigured("NATIONAL_ID_HMAC_KEY and NATIONAL_ID_FERNET_KEY are required in production")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the widget templates, for FORM_RENDERER below
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_filters",
    "auditlog",
    "csp",
    "inservice",
    "accounts",
    "teachers",
    "courses",
    "planning",
    "rewards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.SensitivePostParametersMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.AbsoluteSessionLimitMiddleware",
    "accounts.middleware.NoStoreForSignedInMiddleware",
    "accounts.security_log.AccessDecisionLogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "inservice.csp.CSPMiddleware",  # django-csp, plus the MOE SSO provider in form-action
]

ROOT_URLCONF = "inservice.urls"
# None: runserver uses Django's own handler. inservice.wsgi is the production entry point only
# (gunicorn, the image) and refuses debug mode and the demo keys (inservice.deploy).
WSGI_APPLICATION = None

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
                "inservice.navigation.navigation",
            ],
            "builtins": ["core.templatetags.roc"],
        },
    }
]

# SQLite as a server (the embedded default serves several threads at once): WAL lets readers go on
# while one writer writes; IMMEDIATE takes the write lock when a transaction begins, so two
# read-then-write transactions queue on the busy timeout instead of one failing at once with
# "database is locked"; synchronous=NORMAL is durable enough under WAL and much faster.
SQLITE_SERVER_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def database_from_url(url: str) -> dict:
    config = dj_database_url.parse(
        url,
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**config.get("OPTIONS", {}), **SQLITE_SERVER_OPTIONS}
    return config


# Database: SQLite file unless DATABASE_URL says otherwise (postgres://… uses psycopg 3).
DATABASES = {
    "default": database_from_url(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
# A streaming replica for the heavy public reads (研習課程查詢, course pages, 統計專區): used only by
# their selectors, explicitly (core.replica), and only while it is up and close behind.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **database_from_url(os.environ["DATABASE_REPLICA_URL"]),
        "TEST": {"MIRROR": "default"},
    }
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = 3
DATABASE_REPLICA_MAX_LAG_BYTES = int(os.environ.get("DATABASE_REPLICA_MAX_LAG_BYTES", 16 * 1024 * 1024))
DATABASE_REPLICA_CHECK_SECONDS = float(os.environ.get("DATABASE_REPLICA_CHECK_SECONDS", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "accounts.backends.OperatorPermissionBackend",
]
# Argon2id at OWASP's parameters first; the PBKDF2 hashers after it read older hashes, which are
# re-hashed with Argon2id at the holder's next sign-in (accounts.hashers).
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Redis is the Celery broker and the cache (allauth's rate limits need a shared cache).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Processes that share one Redis database keep apart by key prefix (the parallel test workers do).
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "")

# Internationalisation: the interface is Traditional Chinese, times are Taiwan's.
LANGUAGE_CODE = "zh-hant"
LANGUAGES = [("zh-hant", "繁體中文")]
TIME_ZONE = "Asia/Taipei"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
# Without collectstatic (demo, tests), serve straight from the finders.
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_ROOT.exists()
STATICFILES_DIRS = [BASE_DIR / "static"]

# Widgets render through TEMPLATES, so templates/admin/widgets/ can label the admin's date and time
# boxes (axe: label) for the operator.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded and generated files: one root, on a volume that web and worker share under compose
# (docs/operations.md). Files that carry national IDs (roster uploads, feed files) go under
# TRANSIENT_ROOT: deleted once processed or after TRANSIENT_MAX_AGE_HOURS (inservice.tasks), and
# left out of every backup (`make backup`).
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")
TRANSIENT_ROOT = MEDIA_ROOT / "transient"
TRANSIENT_MAX_AGE_HOURS = int(os.environ.get("TRANSIENT_MAX_AGE_HOURS", "24"))
ROSTER_UPLOAD_DIR = TRANSIENT_ROOT / "uploads"
# Process state that is neither data nor code (beat's schedule file): never the repository root.
STATE_DIR = Path(os.environ.get("INSERVICE_STATE_DIR") or BASE_DIR / "var" / "state")
# The CJK font of every PDF (研習證明, 說明手冊), first existing file wins (core.fonts). Debian's
# fonts-noto-cjk, installed in the image; CJK_FONT_FILE names another file first.
CJK_FONT_FILES = [
    *envlist("CJK_FONT_FILE"),
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
]

# Sign-in (django-allauth), SPEC §3.3.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm"}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# E-mails name the portal (templates/account/email/); without django.contrib.sites allauth would
# prefix the host name.
# One subject prefix for every message: allauth's own, Django's (mail_admins) and, through
# inservice.mail.PortalEmailBackend, every other message that lacks it.
EMAIL_SUBJECT_PREFIX = "【全國教師在職進修資訊網】"
ACCOUNT_EMAIL_SUBJECT_PREFIX = EMAIL_SUBJECT_PREFIX
ACCOUNT_RATE_LIMITS = {
    # Five failed attempts per account per five minutes (the key is the account, whichever of its
    # username or e-mail was typed: accounts.adapters), thirty per minute per address.
    "login_failed": "30/m/ip,5/300s/key",
    # Sign-ins per address: a school of a hundred teachers behind one address at a deadline.
    "login": "300/m/ip",
    # Public application forms (accounts.applying): per client address and per national ID.
    "business_account_apply": "10/10m/ip",
    "business_account_apply_per_id": "3/h/key",
    # 申請教師帳號 and the ID proof of a first roaming sign-in share these (teachers.services).
    "teacher_account_apply": "10/h/ip",
    "teacher_account_apply_per_id": "3/h/key",
    # The public directory, for anonymous clients.
    "directory": "60/m/ip",
    # 教師資料登錄 looks national IDs up: per manager (teachers.views.register, issue 16 point 4).
    "teacher_register_lookup": "30/h/user",
    # 研習證明查驗 (courses.views.certificate_verify): codes checked per client address.
    "certificate_verify": "20/m/ip,200/h/ip",
}
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_FORMS = {"authenticate": "accounts.forms.MFAAuthenticateForm"}
MFA_TOTP_ISSUER = "全國教師在職進修資訊網"

# The portal's public address, for the links of e-mails sent from a worker (no request to read a
# host from): course notices, the correction awaiting approval.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The site's own domain: e-mail Message-IDs (never "@localhost" or the container's name).
SITE_DOMAIN = os.environ.get("DJANGO_SITE_DOMAIN") or next(
    (host.lstrip(".") for host in ALLOWED_HOSTS if host not in ("*", "testserver") and host.strip(".")),
    "inservice.example",
)
# Every message goes through PortalEmailBackend (prefix, Message-ID), which hands it to the
# delivery backend: the console by default, SMTP with EMAIL_URL.
EMAIL_BACKEND = "inservice.mail.PortalEmailBackend"
EMAIL_DELIVERY_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "全國教師在職進修資訊網 <noreply@inservice.example>"
)
if os.environ.get("EMAIL_URL"):
    # smtp://user:pass@host:port — parsed by hand to avoid another dependency for four values.
    _mail = urlsplit(os.environ["EMAIL_URL"])
    EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = _mail.hostname, _mail.port or 587
    EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = unquote(_mail.username or ""), unquote(_mail.password or "")
    EMAIL_USE_TLS = True

# Sessions (SPEC §9): a new token at sign-in (Django rotates it), 30 minutes idle, 12 hours absolute.
SESSION_COOKIE_AGE = 30 * 60
# PostgreSQL, written once per sign-in (accounts.sessions says why not Redis).
SESSION_ENGINE = "accounts.sessions"
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_LIMIT_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", "1")
    # The container's own health check asks over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind the reverse proxy that terminates TLS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy (django-csp 4): no inline script anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Celery: Redis when REDIS_URL is set; otherwise tasks run eagerly in-process. CELERY_BROKER_URL
# (amqp://… for RabbitMQ, docs/operations.md) takes the queue elsewhere; results stay in Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 60 * 60
# Long imports on their own queue (issue 16 point 8), so that a big file never holds the worker
# that sends mail and runs the schedule. `make worker` consumes both queues; docker-compose runs
# one worker for "celery" and one for "imports".
CELERY_IMPORTS_QUEUE = "imports"
CELERY_TASK_ROUTES = {
    "teachers.tasks.import_roster_upload": {"queue": CELERY_IMPORTS_QUEUE},
    "teachers.tasks.sync_teacher_feed": {"queue": CELERY_IMPORTS_QUEUE},
    "courses.tasks.process_attendance_upload": {"queue": CELERY_IMPORTS_QUEUE},
    "accounts.tasks.rotate_national_id_keys": {"queue": CELERY_IMPORTS_QUEUE},  # re-keying, in batches
}

# Data exchange: an .xlsx member (sheet XML, shared strings) may not inflate past this many bytes
# (zip bombs are refused before openpyxl opens the file; see core.dataexchange).
DATAEXCHANGE_XLSX_MAX_INFLATED_BYTES = int(
    os.environ.get("DATAEXCHANGE_XLSX_MAX_INFLATED_BYTES", 512 * 1024 * 1024)
)
# Web uploads (批次上傳, the attendance upload; issue 16 point 8): at most this many bytes and data
# rows per file, refused with a message and nothing written. The national imports (import_data)
# have no such bound.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 5 * 1024 * 1024))
UPLOAD_MAX_ROWS = int(os.environ.get("UPLOAD_MAX_ROWS", 5000))
# 最新消息's PDF attachment: at most this many bytes, refused with a field error and nothing saved
# (planning.services.announcement_attachment_check; bounded while the body is read, core.uploads).
ANNOUNCEMENT_ATTACHMENT_MAX_BYTES = int(os.environ.get("ANNOUNCEMENT_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(STATE_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Files that carry national IDs are gone a day after they were written (TRANSIENT_ROOT).
    "purge-transient-files": {
        "task": "inservice.tasks.purge_transient_files",
        "schedule": crontab(minute=20),
    },
    # Stored downloads (core.exports: the national reward list) are deleted a day after the request.
    "purge-expired-exports": {
        "task": "core.exports.purge_expired_exports",
        "schedule": crontab(minute=25),
    },
    # One reaper for every background job (core.reaper): work whose worker died becomes 中斷.
    "reap-interrupted-jobs": {
        "task": "core.reaper.reap_interrupted_jobs",
        "schedule": 60.0,
    },
    # Early morning Taiwan time, when nobody is signing in.
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=15),
    },
    # The security audit trail's expired entries (accounts.security_log).
    "purge-security-log": {
        "task": "accounts.tasks.purge_security_log",
        "schedule": crontab(hour=3, minute=30),
    },
    # Nightly roster sync from 全國教保資訊網 and 臺北市教師研習網 (docs/feeds.md), 03:00 Asia/Taipei.
    "sync-teacher-feeds": {
        "task": "teachers.tasks.sync_teacher_feeds",
        "schedule": crontab(hour=3, minute=0),
    },
    # Teachers admitted to a course that starts tomorrow get a reminder (courses.services).
    "course-reminders": {
        "task": "courses.tasks.send_course_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    # The roster snapshot (教師名單) right after each planning cycle's cut-off; idempotent.
    "planning-roster-snapshots": {
        "task": "planning.tasks.take_due_roster_snapshots",
        "schedule": crontab(minute="*/5"),
    },
    # 教保研習 hours of kindergarten staff to 全國教保資訊網, the 15th of each month (courses.feeds).
    "kindergarten-hours-feed": {
        "task": "courses.tasks.send_kindergarten_feed",
        "schedule": crontab(day_of_month=15, hour=2, minute=30),
    },
}

# Where each nightly feed is read: an http(s) URL or a file path; empty: not configured yet.
TEACHER_FEEDS = {
    "ece": os.environ.get("TEACHER_FEED_ECE", ""),
    "taipei": os.environ.get("TEACHER_FEED_TAIPEI", ""),
}
# 教育體系單一簽入 (帳號漫遊, SPEC §3.3): allauth's OpenID Connect provider, id `moe`.
MOE_SSO_SERVER_URL = os.environ.get("MOE_SSO_SERVER_URL", "https://oidc.tanet.edu.tw")
MOE_SSO_EDUINFO_URL = os.environ.get(
    "MOE_SSO_EDUINFO_URL", "https://oidc.tanet.edu.tw/moeresource/api/v1/oidc/eduinfo"
)
SOCIALACCOUNT_ADAPTER = "teachers.sso.MoeSocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # the `sub`, bound once, is the key; never the e-mail
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "SCOPE": ["openid", "email", "profile", "eduinfo"],
        "APPS": [
            {
                "provider_id": "moe",
                "name": "教育體系單一簽入",
                "client_id": os.environ.get("MOE_SSO_CLIENT_ID", ""),
                "secret": os.environ.get("MOE_SSO_SECRET", ""),
                # PKCE S256 (allauth's own); the nonce, the form-encoded Basic credentials and
                # the full id_token check are teachers.oidc's.
                "settings": {
                    "server_url": MOE_SSO_SERVER_URL,
                    "token_auth_method": "client_secret_basic",
                    "oauth_pkce_enabled": True,
                },
            }
        ],
    }
}

# Who hears of a failed nightly sync besides the operator accounts (comma-separated addresses).
ADMINS = [("教師進修網", a.strip()) for a in os.environ.get("DJANGO_ADMINS", "").split(",") if a.strip()]
TEACHER_FEED_TOKEN = os.environ.get("TEACHER_FEED_TOKEN", "")
# The authority whose schools 臺北市教師研習網 speaks for.
TAIPEI_AUTHORITY_CODE = os.environ.get("TAIPEI_AUTHORITY_CODE", "63000")

# The security audit trail (accounts.security_log): how long its entries are kept.
SECURITY_LOG_RETENTION_DAYS = int(os.environ.get("SECURITY_LOG_RETENTION_DAYS", "365"))

# Portal settings (SPEC §4): the yearly minimum of in-service hours of the supervision indicator.
SUPERVISION_MIN_HOURS = int(os.environ.get("SUPERVISION_MIN_HOURS", "18"))
# SPEC §7: the class width i of the PR formula, in hours (teacher and school PR alike).
REWARDS_CLASS_WIDTH = os.environ.get("REWARDS_CLASS_WIDTH", "1")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_national_ids": {"()": "accounts.logging.RedactNationalIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_national_ids"],
            "formatter": "plain",
        },
        # The dev server's request log, redefined so that it redacts too (a path or a query string
        # may hold an ID). Django's debug console handler is replaced by "console" (loggers below).
        "django.server": {
            "class": "logging.StreamHandler",
            "filters": ["redact_national_ids"],
            "formatter": "django.server",
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Replaces Django's default "django" logger (console in DEBUG plus mail_admins): the root's
        # console above already takes its records, so it only needs not to write them twice.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
