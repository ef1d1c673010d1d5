"""allauth adapters: closed signup, the client address behind our proxies, failure limits, encrypted MFA secrets."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.internal import ratelimit  # its usages can be rolled back when the password turns out right
from allauth.mfa.adapter import DefaultMFAAdapter
from django.contrib import messages
from django.core.exceptions import PermissionDenied

from core import encryption
from insights.middleware import client_ip_from

from . import services

# Lanyard's own rate-limit actions (their rates are in ACCOUNT_RATE_LIMITS): refused sign-ins from one client
# address, and refused sign-ins of one account from every address. allauth's own "login_failed" is keyed here by
# (address, account); allauth also counts wrong second-factor codes there, keyed by user, and clears that whole
# action after a good code, which is why the per-address counts live in an action of their own.
ADDRESS_FAILURES = "login_failed_address"
ACCOUNT_FAILURES = "login_failed_account"


def _account(credentials: dict) -> str:
    return (credentials.get("email") or credentials.get("username") or "").strip().lower()


class PortalAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by an organization's admins, never by signing up on the portal."""

    def is_open_for_signup(self, request) -> bool:
        """Signup is closed: users are added to the directory by their administrator."""
        return False

    def get_client_ip(self, request) -> str:
        """The client's address as every other part of Lanyard sees it (TRUSTED_PROXY_COUNT applied).

        allauth's rate limits key on this: without it, behind a proxy every client shares the proxy's address.
        """
        ip = client_ip_from(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client's address.")  # nothing to count limits against
        return ip

    def _account_limits(self, request, account: str) -> tuple[tuple[str, str], ...]:
        # (action, key): one address guessing at one account, and one account guessed at from everywhere.
        return (("login_failed", f"{ratelimit.get_ip(request)} {account}"), (ACCOUNT_FAILURES, account))

    def pre_authenticate(self, request, **credentials) -> None:
        """Count this attempt against the failure limits before checking the password (allauth undoes it on success).

        An address that keeps failing for one account is stopped for that account only, so an attacker
        cannot lock the owner out from their own address; the per-account ceiling is set above what one
        address can reach, so only a distributed guess hits it.
        """
        account = _account(credentials)
        usage = ratelimit.RateLimitUsage(usage=[])
        for action, key in ((ADDRESS_FAILURES, ""), *self._account_limits(request, account)):
            consumed = ratelimit.consume(request, app="allauth.account", action=action, key=key)
            if consumed is None:
                usage.rollback()  # a refused attempt is not a failed password
                services.login_throttled_record(email=account)
                raise self.validation_error("too_many_login_attempts")
            usage.usage.extend(consumed.usage)
        self._login_failed_rl_usage = usage  # the attribute allauth's authenticate() rolls back on success

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        """After a password reset, forget the failures counted against that account (not the address's own)."""
        for action, key in self._account_limits(request, _account(credentials)):
            ratelimit.clear(request, app="allauth.account", action=action, key=key)

    def is_safe_url(self, url) -> bool:
        """allauth's check, plus a message and an event when a `next` pointing off-site is refused."""
        safe = super().is_safe_url(url)
        request = getattr(self, "request", None) or context.request
        if not safe and url and request is not None and not getattr(request, "_portal_unsafe_next_seen", False):
            request._portal_unsafe_next_seen = True  # allauth may check the same URL more than once
            services.redirect_refused_record(url=url)
            messages.warning(
                request,
                "The link you followed pointed to another site, so it was ignored and you were taken to your portal.",
                fail_silently=True,
            )
        return safe


class PortalMFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored encrypted with FIELD_ENCRYPTION_KEYS, like every secret."""

    def encrypt(self, text: str) -> str:
        """Encrypt with the first key of the ring."""
        return encryption.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        """Decrypt with any key of the ring."""
        return encryption.decrypt(encrypted_text)
