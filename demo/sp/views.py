"""The demo SP's pages: who is signed in, and the SAML attributes Lanyard sent."""

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from djangosaml2.cache import IdentityCache
from djangosaml2.conf import get_config
from djangosaml2.views import _get_subject_id
from saml2.client import Saml2Client


def _attributes(request: HttpRequest) -> dict:
    """The attributes of the current SAML identity, as received from Lanyard."""
    try:
        client = Saml2Client(config=get_config(None, request), identity_cache=IdentityCache(request.saml_session))
        identity = client.users.get_identity(_get_subject_id(request.saml_session), check_not_on_or_after=False)
        return dict(sorted(identity[0].items()))
    except Exception:  # noqa: BLE001 - a stale or missing identity simply shows no attributes
        return {}


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: the user and their attributes. Otherwise a button that starts SP-initiated SSO."""
    context = {"attributes": _attributes(request) if request.user.is_authenticated else {}}
    return render(request, "sp/home.html", context)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the SP's own session (single logout is out of scope for the demo)."""
    logout(request)
    return redirect("home")
