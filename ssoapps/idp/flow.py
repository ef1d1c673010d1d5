"""One SSO attempt at the IdP, from the IdP URL to the issued Response or a refusal; the view calls `sso_flow` once."""

import base64
from contextlib import nullcontext
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from core.url_policy import url_check
from directory.models import User, UserState
from insights.models import Service
from insights.services import record

from ..models import Application
from ..saml import errors
from ..saml.authn_request import AuthnRequest, relay_state_check
from ..saml.errors import SamlRefusal
from ..saml.response import response_build
from ..selectors import application_access_allowed
from .assertion import AssertionBuilder
from .lookup import sso_application_get
from .request_store import sso_parked_take, sso_request_answered, sso_request_park, sso_request_read
from .signing_keys import sso_signing_key


@dataclass(frozen=True)
class IssuedResponse:
    """What the auto-submitting POST form carries to the app."""

    acs_url: str
    saml_response: str  # base64
    relay_state: str


@dataclass(frozen=True)
class FlowOutcome:
    """What the view does next: deliver `issued`, send the browser to log in (then `login_next`), or show `refusal`."""

    application: Application | None
    issued: IssuedResponse | None = None
    login_next: str = ""
    refusal: SamlRefusal | None = None


def sso_flow(
    *,
    slug: str,
    user: User,
    session_user_id: str | int | None,
    method: str,
    query_string: str,
    form: dict,
    resume_token: str = "",
    resume_path: str = "",
) -> FlowOutcome:
    """Run one attempt: find the app, read (or resume) the request, park it for login or decide and issue.

    `user` is the request's user (maybe anonymous); `session_user_id` is the session's user id, which still names
    a suspended user whose session no longer authenticates. A refusal is recorded as a failed sso_auth event.
    """
    application = signed_in = None
    try:
        application = sso_application_get(slug=slug, user=user)
        if resume_token:
            parked = sso_parked_take(application=application, token=resume_token)
            signed_in = _signed_in_user(user, session_user_id)
            if signed_in is None:
                return FlowOutcome(application, login_next=resume_path)
            try:
                authn = sso_request_read(
                    application=application, method=parked.method, query_string=parked.query_string, form=parked.form
                )
                return FlowOutcome(
                    application, issued=sso_response_issue(application=application, user=signed_in, authn=authn)
                )
            finally:
                parked.delete()
        authn = None
        if "SAMLRequest" in form:
            authn = sso_request_read(application=application, method=method, query_string=query_string, form=form)
        signed_in = _signed_in_user(user, session_user_id)
        if signed_in is None:
            if authn is None:
                return FlowOutcome(application, login_next=reverse("ssoapps_saml:sso", args=[slug]))
            parked = sso_request_park(application=application, method=method, query_string=query_string, form=form)
            return FlowOutcome(application, login_next=reverse("ssoapps_saml:resume", args=[slug, parked.token]))
        return FlowOutcome(application, issued=sso_response_issue(application=application, user=signed_in, authn=authn))
    except SamlRefusal as refusal:
        sso_refusal_record(refusal=refusal, application=application, user=signed_in, slug=slug)
        return FlowOutcome(application, refusal=refusal)


def _signed_in_user(user: User, session_user_id: str | int | None) -> User | None:
    """The signed-in user; a session whose user is suspended still names them, so they are refused, not re-asked."""
    if user.is_authenticated:
        return user
    if session_user_id is None:
        return None
    return User.objects.filter(pk=session_user_id, state=UserState.SUSPENDED).first()


def sso_user_check(*, application: Application, user: User) -> None:
    """Refuse a suspended user, and a user the access rule does not let use this app."""
    if not user.is_active:
        raise SamlRefusal(
            errors.USER_SUSPENDED,
            "Your account is suspended, so you cannot sign in to applications. Contact your administrator.",
            status=403,
        )
    if not application_access_allowed(user=user, application=application):
        raise SamlRefusal(
            errors.NOT_AUTHORIZED,
            f"You are not allowed to use {application.label}. Ask your administrator to add you to a group "
            "that has access to it.",
            status=403,
        )


def sso_destination(*, application: Application, authn: AuthnRequest | None) -> tuple[str, str]:
    """(ACS URL, RelayState) the Response goes to, the URL checked against the URL policy again."""
    if authn is None:
        acs_url = application.default_acs_url
        if not acs_url:
            raise SamlRefusal(
                errors.UNKNOWN_ACS, "No ACS URL is configured for this app. Ask your administrator to add one."
            )
        relay_state = relay_state_check(application.default_relay_state)
    else:
        acs_url, relay_state = authn.acs_url, authn.relay_state
    # The POST form's action is checked again here: a row stored before the URL policy must not reach the page.
    try:
        url_check(acs_url, field="ACS URL")
    except ValidationError as exc:
        raise SamlRefusal(
            errors.UNKNOWN_ACS,
            "This app's sign-in address (ACS URL) is not a valid https:// address, so Lanyard will not send you "
            "there. Ask your administrator to correct it.",
            status=400,
        ) from exc
    return acs_url, relay_state


def sso_response_issue(*, application: Application, user: User, authn: AuthnRequest | None) -> IssuedResponse:
    """Check the user may use the app, then build and sign the Response; records sso_auth success."""
    sso_user_check(application=application, user=user)
    acs_url, relay_state = sso_destination(application=application, authn=authn)
    spec = AssertionBuilder(application=application, user=user).spec(
        acs_url=acs_url, in_response_to=authn.id if authn else None
    )
    key = sso_signing_key(application=application) if (spec.sign_response or spec.sign_assertion) else None
    document = response_build(spec, key=key)
    with transaction.atomic() if authn is not None else nullcontext():
        if authn is not None:
            sso_request_answered(application=application, authn=authn)
        record(
            event_type="sso_auth",
            service=Service.SSO,
            organization=application.organization,
            resource=application,
            actor=user,
            message=f"{user.email} signed in to {application.label} ({'SP-initiated' if authn else 'IdP-initiated'})",
        )
    return IssuedResponse(acs_url=acs_url, saml_response=base64.b64encode(document).decode(), relay_state=relay_state)


def sso_refusal_record(*, refusal: SamlRefusal, application: Application | None, user: User | None, slug: str) -> None:
    """Record a refused sso_auth attempt with its reason."""
    record(
        event_type="sso_auth",
        service=Service.SSO,
        organization=application.organization if application else (user.organization if user else None),
        success=False,
        resource=application if application else {"type": "application", "id": "", "name": slug},
        actor=user,
        message=f"{refusal.reason}: {refusal.message}",
    )
