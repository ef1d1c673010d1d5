"""Organization-wide MFA: a user without a second factor is sent to set one up first."""

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

# Paths a user who still has to enrol may use: the sign-in and MFA pages themselves, static files.
ENROLMENT_OPEN_PREFIXES = ("/accounts/", "/static/")
# Where the user was going when sent to enrol; the portal home continues there once they have a factor.
RESUME_AFTER_ENROLMENT = "portal.resume_after_mfa"


def user_needs_mfa_enrolment(user) -> bool:
    """Whether this signed-in user's organization requires MFA and they have no second factor yet."""
    organization = getattr(user, "organization", None)
    if organization is None or not organization.require_mfa:
        return False
    kinds = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
    return not Authenticator.objects.filter(user=user, type__in=kinds).exists()


class RequireMFAMiddleware:
    """Sends users of an organization that requires MFA to enrol before they reach the portal or any app."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(ENROLMENT_OPEN_PREFIXES)
            and user_needs_mfa_enrolment(user)
        ):
            if request.method == "GET" and request.path != reverse("portal:home"):
                request.session[RESUME_AFTER_ENROLMENT] = request.get_full_path()
            messages.info(
                request,
                "Your organization requires a second factor. Set up an authenticator app or a security key "
                "to continue.",
            )
            return redirect(reverse("mfa_index"))
        return self.get_response(request)
