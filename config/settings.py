"""Lanyard settings: everything that differs between machines comes from the environment."""

import ipaddress
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# record() refuses an event type no app declared in its events.py (on in tests; off in production,
# where an undeclared type is still written: an audit event is never lost).
EVENT_TYPES_STRICT = env.bool("EVENT_TYPES_STRICT", default=DEBUG)
DEVELOPMENT_SECRET_KEY = "insecure-development-key-change-me"
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies in front of Lanyard append to X-Forwarded-For (0: use the socket address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Public base URL of this IdP, used in SAML metadata, entity IDs and links in emails.
SSO_BASE_URL = env.str("SSO_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Fernet keys for secrets at rest (private keys, SCIM tokens, MFA secrets). The first encrypts; all decrypt,
# so a new key is rotated in by putting it first and re-encrypting with `manage.py rotate_encryption_keys`.
DEVELOPMENT_ENCRYPTION_KEYS = ["bGFueWFyZC1kZXZlbG9wbWVudC1vbmx5LWtleS0wMDA="]
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=DEVELOPMENT_ENCRYPTION_KEYS)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "django_rq",
    "insights",
    "directory",
    "ssoapps",
    "provisioning",
    # End-user sign-in: allauth accounts and MFA, and the portal that uses them.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "ssoapps.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # above WhiteNoise, so static files carry the policy too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestHygieneMiddleware",  # before sessions: a NUL in a cookie or field never reaches SQL
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "insights.middleware.EventContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ssoapps.portal.middleware.RequireMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'lanyard.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "directory.User"
# One backend: it finds the user by the directory's email address only and hashes exactly once per
# attempt, whatever the outcome (allauth's own backend, added beside it, would hash a second time).
AUTHENTICATION_BACKENDS = ["directory.backends.DirectoryBackend"]
# Argon2id with OWASP's parameters first; the others only verify older hashes, which are rewritten
# with Argon2id at the user's next sign-in.
PASSWORD_HASHERS = [
    "directory.hashers.OWASPArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
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
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Redis: one URL for the job queues and the cache.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
    "provisioning": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
}
RQ_SHOW_ADMIN_LINK = False  # the dashboard lives at /admin/rq/, for superusers only

# SCIM provisioning (see docs/provisioning.md). The sweep and nightly full sync run from
# `manage.py rqcron provisioning.cron`, next to `manage.py rqworker default provisioning`.
PROVISIONING_CONCURRENCY = env.int("PROVISIONING_CONCURRENCY", default=4)  # parallel SCIM calls per batch job
PROVISIONING_RETRY_ATTEMPTS = env.int("PROVISIONING_RETRY_ATTEMPTS", default=5)
PROVISIONING_QUARANTINE_AFTER = env.int("PROVISIONING_QUARANTINE_AFTER", default=10)  # failures in a row
PROVISIONING_LEASE_SECONDS = env.int("PROVISIONING_LEASE_SECONDS", default=120)  # a crashed worker's hold expires
PROVISIONING_SWEEP_GRACE_SECONDS = env.int("PROVISIONING_SWEEP_GRACE_SECONDS", default=120)
PROVISIONING_HTTP_TIMEOUT = env.float("PROVISIONING_HTTP_TIMEOUT", default=15.0)
PROVISIONING_USE_BULK = env.bool("PROVISIONING_USE_BULK", default=True)  # creates via SCIM /Bulk where supported

# Outbound requests and stored URLs (core/url_policy.py, core/outbound.py). Stored URLs must be https://;
# ALLOW_INSECURE_URLS also accepts plain http:// to loopback hosts (the demo, tests; DEBUG does too).
# Lanyard never calls loopback, private, link-local or reserved addresses, except inside the networks
# listed here (CIDRs, comma-separated), for apps on the company's own network.
ALLOW_INSECURE_URLS = env.bool("ALLOW_INSECURE_URLS", default=False)
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])
try:
    [ipaddress.ip_network(network, strict=False) for network in OUTBOUND_ALLOWED_NETWORKS]
except ValueError as exc:
    raise ImproperlyConfigured(f"OUTBOUND_ALLOWED_NETWORKS must list networks such as 10.20.0.0/16: {exc}") from exc

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lanyard <no-reply@lanyard.local>")

# Cache: Redis when REDIS_URL is configured (allauth's rate limits must be shared by every web
# process); a local-memory cache only for a machine with no Redis configured.
if env.str("REDIS_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions are read from the cache (Redis in production) and written through to the database,
# so a request costs no session query and a cache flush signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Sign-in (django-allauth): email + password, no self-service signup, MFA, rate limits.
# Identity attributes belong to the organization: config/urls.py mounts only allauth's sign-in,
# password and MFA pages (no email management, signup, phone or sign-in codes), and allauth's
# EmailAddress rows follow the directory (ssoapps/portal/receivers.py).
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_ADAPTER = "ssoapps.portal.adapters.PortalAccountAdapter"
ACCOUNT_FORMS = {"user_token": "ssoapps.portal.forms.ResetTokenForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None  # our username is unique per organization only
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"  # addresses are managed by the organization's admins
ACCOUNT_CHANGE_EMAIL = False
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # no "you have no account, sign up" mail to whoever a reset names
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")  # not "code": it mails a code to allauth's addresses
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# allauth finds the client's address as the rest of Lanyard does (the adapter reuses insights' function);
# these keep allauth's own helpers in step with it.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Rate limits ("amount/period/key"), counted in the shared cache. "ip" is the client's address (an
# IPv6 /64), never the proxy's. The sign-in limits count refused attempts (a success is not counted),
# except "login", which is a flood ceiling on every attempt.
ACCOUNT_RATE_LIMITS = {
    # Every sign-in attempt from one address, right or wrong: 300 a minute. An office whose staff
    # share one NAT address signs in hundreds of people a minute at 9 a.m. below it.
    "login": "300/m/ip",
    # Refused sign-ins from one address (Lanyard's own action, see ssoapps/portal/adapters.py): 60 a
    # minute and 600 an hour, room for a large office's typos but not for trying passwords across
    # many accounts.
    "login_failed_address": "60/m/ip,600/h/ip",
    # Refused sign-ins per (address, account): 5 per 5 minutes, so a guesser is stopped at that account
    # from their address while its owner still signs in from theirs. allauth's second-factor check
    # counts here too, keyed by the user: 5 wrong codes per 5 minutes.
    "login_failed": "5/5m/key",
    # Lanyard's own: refused sign-ins of one account from all addresses together, 100 an hour (the
    # bound of NIST SP 800-63B). One address alone can make at most 60 an hour for an account, so
    # keeping a user locked out takes a distributed attack, and a distributed guess is capped.
    "login_failed_account": "100/h/key",
    # Reset emails: per address as for sign-ins; 3 per 15 minutes per email address, so nobody floods an inbox.
    "reset_password": "60/m/ip,600/h/ip,3/15m/key",
    # Choosing the new password from a reset link (the link's token is unguessable).
    "reset_password_from_key": "60/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Lanyard] "
MFA_ADAPTER = "ssoapps.portal.adapters.PortalMFAAdapter"  # TOTP secrets and recovery seeds encrypted
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Lanyard")
MFA_PASSKEY_LOGIN_ENABLED = False
# WebAuthn needs a secure context: HTTPS, or plain HTTP on the loopback address as in the demo.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool(
    "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=SSO_BASE_URL.startswith(("http://127.0.0.1", "http://localhost"))
)
# allauth's WebAuthn pages load their JavaScript as static files: serve them from the apps' static
# folders too, so they work before (or without) collectstatic, e.g. `make demo` with DEBUG off.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

# LOG_FORMAT=json writes one JSON object per line (for a log shipper); text is for people.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": env.str("LOG_FORMAT", default="text")},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Security headers on every response. The policy allows no inline script and no inline style (element or
# attribute): every page, the admin included, loads its JavaScript and CSS as static files from this origin.
# The SAML auto-POST page alone widens form-action, to the origin of the one ACS URL it posts to.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # portal tile images and the TOTP QR code are data: URLs
        "connect-src": ["'self'"],  # the admin's autocomplete, allauth's WebAuthn
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
# Chromium applies form-action to the redirects that follow a form POST too: an app whose ACS answers with a
# redirect to another origin (its console on another domain, say) is blocked there. List such origins here
# (e.g. "https://console.example.com", or "https:" for any HTTPS origin); the auto-POST page allows them.
SAML_POST_FORM_ACTION_EXTRA = env.list("SAML_POST_FORM_ACTION_EXTRA", default=[])
# Where browsers send violation reports (e.g. an operator's collector); none by default.
# (not a CSP_* setting of its own: django-csp 4 refuses to start with any, as left over from its 3.x format)
if csp_report_uri := env.str("CSP_REPORT_URI", default=""):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [csp_report_uri]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Not "same-origin": that makes the SAML POST to the app carry "Origin: null"; this policy still sends other
# sites the origin alone, never a path (reset and activation links carry their token in the path).
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"

# Behind TLS (production): secure cookies, HSTS, HTTPS redirects. The proxy must set X-Forwarded-Proto.
SECURE_DEPLOYMENT = env.bool("SECURE_DEPLOYMENT", default=False)
if SECURE_DEPLOYMENT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or FIELD_ENCRYPTION_KEYS == DEVELOPMENT_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "SECURE_DEPLOYMENT is on but SECRET_KEY or FIELD_ENCRYPTION_KEYS still has its development value. "
            "Set both in the environment (see .env.example)."
        )
