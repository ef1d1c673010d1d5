"""The IdP's HTTP endpoints: SSO (both bindings, IdP-initiated launch, resume after login) and metadata."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from .. import selectors, sso
from .errors import SamlRefusal

# A host name or IP address, nothing that could end a CSP source expression or start another one.
_CSP_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")


def _refuse(request, refusal: SamlRefusal, *, application, user, slug: str) -> HttpResponse:
    sso.sso_refusal_record(refusal=refusal, application=application, user=user, slug=slug)
    context = {"message": refusal.message, "application": application, "reason": refusal.reason}
    return render(request, "ssoapps/sso_error.html", context, status=refusal.status)


def _signed_in_user(request):
    """The signed-in user; a session whose user is suspended is refused rather than sent to log in again."""
    if request.user.is_authenticated:
        return request.user
    suspended = sso.suspended_user(user_id=request.session.get(SESSION_KEY))
    return suspended


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


def _deliver(request, application, user, authn) -> HttpResponse:
    issued = sso.sso_response_issue(application=application, user=user, authn=authn)
    # rendered without a RequestContext: the page needs no context processors, and this is the hot path
    page = get_template("ssoapps/saml_post.html").render({"issued": issued, "application": application})
    response = HttpResponse(page)
    response["Cache-Control"] = "no-store"
    # django-csp's per-response override (what its csp_replace decorator sets): this page's one form may post
    # to its ACS origin (and the origins an operator listed for the app's redirects after it), nowhere else.
    acs = _form_action_source(issued.acs_url)
    sources = [acs] if acs == "'none'" else [acs, *settings.SAML_POST_FORM_ACTION_EXTRA]
    response._csp_replace = {"form-action": sources}
    return response


@csrf_exempt  # SPs POST AuthnRequests cross-site; the request's own signature and checks stand in for CSRF
@never_cache
@require_http_methods(["GET", "POST"])
def sso_endpoint(request, slug: str) -> HttpResponse:
    """The IdP URL: SP-initiated SSO when a SAMLRequest comes with it, else the IdP-initiated launch."""
    application = user = None
    try:
        application = sso.sso_application_get(slug=slug, user=request.user)
        params = request.POST if request.method == "POST" else request.GET
        form = {k: params[k] for k in ("SAMLRequest", "RelayState") if k in params}
        authn = None
        if "SAMLRequest" in params:
            authn = sso.sso_request_read(
                application=application,
                method=request.method,
                query_string=request.META.get("QUERY_STRING", ""),
                form=form,
            )
        user = _signed_in_user(request)
        if user is None:
            if authn is None:
                return redirect_to_login(reverse("ssoapps_saml:sso", args=[slug]))
            parked = sso.sso_request_park(
                application=application,
                method=request.method,
                query_string=request.META.get("QUERY_STRING", ""),
                form=form,
            )
            return redirect_to_login(reverse("ssoapps_saml:resume", args=[slug, parked.token]))
        return _deliver(request, application, user, authn)
    except SamlRefusal as refusal:
        return _refuse(request, refusal, application=application, user=user, slug=slug)


@never_cache
@require_GET
def sso_resume(request, slug: str, token: str) -> HttpResponse:
    """Continue a request parked before login, without another click."""
    application = user = None
    try:
        application = sso.sso_application_get(slug=slug, user=request.user)
        parked = sso.sso_parked_take(application=application, token=token)
        user = _signed_in_user(request)
        if user is None:
            return redirect_to_login(request.get_full_path())
        try:
            authn = sso.sso_request_read(
                application=application, method=parked.method, query_string=parked.query_string, form=parked.form
            )
            return _deliver(request, application, user, authn)
        finally:
            parked.delete()
    except SamlRefusal as refusal:
        return _refuse(request, refusal, application=application, user=user, slug=slug)


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
