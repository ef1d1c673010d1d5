"""The allauth pages Lanyard offers: sign-in and out, password reset and change, and MFA self-service.

Identity attributes (email, username, phone) belong to the organization and change only through
the directory's services, so nothing else allauth ships is mounted: not email management, signup,
email confirmation, phone change, sign-in or re-authentication codes (they mail allauth's address
rows), social accounts or the headless API. This is a list of what is allowed, so a view that a
future allauth adds stays unmounted until someone decides it belongs here.
"""

from allauth.account import urls as account_urls
from django.urls import URLPattern, include, path

ACCOUNT_PAGES = frozenset(
    {
        "account_login",
        "account_logout",
        "account_inactive",
        "account_reauthenticate",
        "account_change_password",
        "account_set_password",
        "account_reset_password",
        "account_reset_password_done",
        "account_reset_password_from_key",
        "account_reset_password_from_key_done",
    }
)


def account_patterns() -> list[URLPattern]:
    """allauth's account URLs, only those named in ACCOUNT_PAGES."""
    return [p for p in account_urls.urlpatterns if isinstance(p, URLPattern) and p.name in ACCOUNT_PAGES]


urlpatterns = [
    *account_patterns(),
    path("2fa/", include("allauth.mfa.urls")),  # second factors: the user's own, like the password
]
