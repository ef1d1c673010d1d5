"""Settings of the demo SP: a separate Django project that signs users in with Lanyard over SAML.

Environment: DEMO_SP_URL (its own base URL, default http://127.0.0.1:8001), LANYARD_METADATA_URL
(Lanyard's IdP metadata for this app), DEMO_SP_DB (its SQLite file), DEMO_SP_SECRET_KEY.
"""

import os
import shutil
import tempfile
from pathlib import Path

import saml2
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

HERE = Path(__file__).resolve().parent

SP_URL = os.environ.get("DEMO_SP_URL", "http://127.0.0.1:8001").rstrip("/")
LANYARD_METADATA_URL = os.environ.get("LANYARD_METADATA_URL", "http://127.0.0.1:8000/saml2/demo-sp/metadata")

DEBUG = os.environ.get("DEMO_SP_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("DEMO_SP_SECRET_KEY", "demo-sp-insecure-key")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "djangosaml2",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "djangosaml2.middleware.SamlSessionMiddleware",
]
ROOT_URLCONF = "demo.sp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_SP_DB", str(Path(tempfile.gettempdir()) / "lanyard-demo-sp.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# Lanyard and this SP share the host 127.0.0.1 (cookies ignore the port): use cookie names of our own.
SESSION_COOKIE_NAME = "demo_sp_sessionid"
CSRF_COOKIE_NAME = "demo_sp_csrftoken"
SAML_SESSION_COOKIE_NAME = "demo_sp_saml_session"
# IdP and SP are the same site here; SameSite=None would need HTTPS.
SAML_SESSION_COOKIE_SAMESITE = "Lax"

AUTHENTICATION_BACKENDS = ["djangosaml2.backends.Saml2Backend"]
LOGIN_URL = "/saml2/login/"
LOGIN_REDIRECT_URL = "/"
SAML_DEFAULT_BINDING = saml2.BINDING_HTTP_REDIRECT
SAML_IGNORE_LOGOUT_ERRORS = True
SAML_USE_NAME_ID_AS_USERNAME = True
SAML_DJANGO_USER_MAIN_ATTRIBUTE = "username"
SAML_CREATE_UNKNOWN_USER = True
SAML_ATTRIBUTE_MAPPING = {"email": ("email",), "givenName": ("first_name",), "sn": ("last_name",)}

SAML_CONFIG = {
    "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
    "entityid": f"{SP_URL}/saml2/metadata/",
    "allow_unknown_attributes": True,
    "service": {
        "sp": {
            "name": "Lanyard demo SP",
            "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
            "endpoints": {
                "assertion_consumer_service": [(f"{SP_URL}/saml2/acs/", saml2.BINDING_HTTP_POST)],
                "single_logout_service": [(f"{SP_URL}/saml2/ls/", saml2.BINDING_HTTP_REDIRECT)],
            },
            "allow_unsolicited": True,  # accept IdP-initiated logins from the Lanyard portal
            "authn_requests_signed": False,
            "logout_requests_signed": False,
            "want_response_signed": False,
            "want_assertions_signed": True,
        }
    },
    "metadata": {"remote": [{"url": LANYARD_METADATA_URL}]},
    "debug": DEBUG,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "djangosaml2": {"handlers": ["console"], "level": "INFO"},
        "saml2": {"handlers": ["console"], "level": "WARNING"},
    },
}
