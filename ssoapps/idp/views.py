"""The IdP's HTTP endpoints: SSO (both bindings, IdP-initiated launch, resume after login) and metadata."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from .. import selectors
from .flow import FlowOutcome, sso_flow

# A host name or IP address, nothing that could end a CSP source expression or start another one.
_CSP_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")


def _form_action_source(url: str) -> str:
    """The CSP source that allows a form to post to this URL: its origin, or 'none' for anything unusual."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")  # a CSP source names a host in ASCII
    except (ValueError, UnicodeError):
        return "'none'"
    if parts.scheme not in ("https", "http") or not _CSP_HOST.fullmatch(host):
        return "'none'"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _answer(request, outcome: FlowOutcome) -> HttpResponse:
    """The page for the flow's outcome: the error page, the login redirect, or the auto-submitting form."""
    if outcome.refusal is not None:
        refusal = outcome.refusal
        context = {"message": refusal.message, "application": outcome.application, "reason": refusal.reason}
        return render(request, "ssoapps/sso_error.html", context, status=refusal.status)
    if outcome.issued is None:
        return redirect_to_login(outcome.login_next)
    issued = outcome.issued
    # rendered without a RequestContext: the page needs no context processors, and this is the hot path
    page = get_template("ssoapps/saml_post.html").render({"issued": issued, "application": outcome.application})
    response = HttpResponse(page)
    response["Cache-Control"] = "no-store"
    # django-csp's per-response override (what its csp_replace decorator sets): this page's one form may post
    # to its ACS origin (and the origins an operator listed for the app's redirects after it), nowhere else.
    acs = _form_action_source(issued.acs_url)
    sources = [acs] if acs == "'none'" else [acs, *settings.SAML_POST_FORM_ACTION_EXTRA]
    response._csp_replace = {"form-action": sources}
    return response


def _session_user_id(request):
    """The session's user id when the request is not authenticated (it may name a suspended user)."""
    return None if request.user.is_authenticated else request.session.get(SESSION_KEY)


@csrf_exempt  # SPs POST AuthnRequests cross-site; the request's own signature and checks stand in for CSRF
@never_cache
@require_http_methods(["GET", "POST"])
def sso_endpoint(request, slug: str) -> HttpResponse:
    """The IdP URL: SP-initiated SSO when a SAMLRequest comes with it, else the IdP-initiated launch."""
    params = request.POST if request.method == "POST" else request.GET
    outcome = sso_flow(
        slug=slug,
        user=request.user,
        session_user_id=_session_user_id(request),
        method=request.method,
        query_string=request.META.get("QUERY_STRING", ""),
        form={k: params[k] for k in ("SAMLRequest", "RelayState") if k in params},
    )
    return _answer(request, outcome)


@never_cache
@require_GET
def sso_resume(request, slug: str, token: str) -> HttpResponse:
    """Continue a request parked before login, without another click."""
    outcome = sso_flow(
        slug=slug,
        user=request.user,
        session_user_id=_session_user_id(request),
        method=request.method,
        query_string="",
        form={},
        resume_token=token,
        resume_path=request.get_full_path(),
    )
    return _answer(request, outcome)


@require_GET
def metadata(request, slug: str) -> HttpResponse:
    """The public IdP metadata of one application."""
    application = selectors.application_by_slug(slug=slug)
    if application is None or application.is_bookmark:
        return render(
            request,
            "ssoapps/sso_error.html",
            {"message": "There is no application at this address. Check the metadata URL."},
            status=404,
        )
    response = HttpResponse(
        selectors.application_idp_metadata(application=application), content_type="application/samlmetadata+xml"
    )
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{application.idp_slug}-metadata.xml"'
    return response
