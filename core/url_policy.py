"""The one rule for every URL Lanyard stores and later sends people or requests to.

ACS URLs, the SP login URL, bookmark URLs, SCIM base URLs and webhook URLs all pass through
`url_check` in the model's `clean()` and in the services that save them, so metadata upload, CSV,
admin and API cannot store what a form would have refused. Code that puts a stored URL in front of
a browser (the SAML POST form, a bookmark redirect) checks it again, so a row written before this
rule existed is refused rather than served.

`https://` only. Plain `http://` is allowed for loopback hosts (127.0.0.0/8, ::1, localhost) while
`DEBUG` or `ALLOW_INSECURE_URLS` is on, for the demo and the tests.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

MAX_URL_LENGTH = 2000  # what browsers and servers reliably accept
LOOPBACK_NAMES = {"localhost"}

_django_url_check = URLValidator(schemes=["https", "http"])


def insecure_urls_allowed() -> bool:
    """Whether plain http:// to loopback hosts is accepted (development, tests, the demo)."""
    return bool(settings.DEBUG or getattr(settings, "ALLOW_INSECURE_URLS", False))


def is_loopback_host(host: str) -> bool:
    """Whether a URL's host name is this machine: localhost, 127.0.0.0/8 or ::1."""
    host = host.lower().rstrip(".")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scheme_allowed(scheme: str, host: str) -> bool:
    """Whether a request or link with this scheme may go to this host under the policy."""
    scheme = scheme.lower()
    return scheme == "https" or (scheme == "http" and insecure_urls_allowed() and is_loopback_host(host))


def url_check(value: str, *, field: str) -> str:
    """Refuse a URL Lanyard must not store or use; returns it unchanged. `field` names it in the sentence."""
    shown = _shown(value)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"Enter the {field} as a full https:// address.")
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(f"The {field} is longer than {MAX_URL_LENGTH} characters. Give a shorter address.")
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch == "\\" for ch in value):
        raise ValidationError(
            f"The {field} {shown} contains spaces, backslashes or control characters. Give the address without them."
        )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(
            f"The {field} {shown} is not a valid address (check the host name and the port, 1 to 65535)."
        ) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ValidationError(f"The {field} {shown} must start with https://.")
    if "@" in parts.netloc:
        raise ValidationError(
            f"The {field} {shown} must not contain a user name or password. Remove the part before @."
        )
    host = parts.hostname or ""
    if not host:
        raise ValidationError(
            f"The {field} {shown} has no host name. Give the full address, such as https://app.example.com/sso."
        )
    if port is not None and not 1 <= port <= 65535:
        raise ValidationError(f"The {field} {shown} has an invalid port. Use a port from 1 to 65535, or none.")
    if not scheme_allowed(scheme, host):
        hint = (
            " Plain http:// is only accepted for 127.0.0.1 or localhost, and only in development."
            if scheme == "http"
            else ""
        )
        raise ValidationError(f"The {field} {shown} must start with https://.{hint}")
    try:
        _django_url_check(value)
    except ValidationError as exc:
        raise ValidationError(f"The {field} {shown} is not a valid web address. Check it and try again.") from exc
    return value


def _shown(value) -> str:
    """The URL quoted for a sentence, shortened so a huge value does not flood the page."""
    text = str(value)
    text = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text[:120])
    return f"“{text}{'…' if len(str(value)) > 120 else ''}”"
