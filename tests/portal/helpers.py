"""Helpers shared by the portal tests."""

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


def totp_code(secret: str, *, step: int = 0) -> str:
    """The authenticator-app code for this secret now (or `step` periods later), as a phone would show it."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + step
    return format_hotp_value(hotp_value(secret, counter))
