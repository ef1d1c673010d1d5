"""allauth adapter: no self-service signup, and off-site `next` links refused with a message."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.contrib import messages

from . import services


class PortalAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by an organization's admins, never by signing up on the portal."""

    def is_open_for_signup(self, request) -> bool:
        """Signup is closed: users are added to the directory by their administrator."""
        return False

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
