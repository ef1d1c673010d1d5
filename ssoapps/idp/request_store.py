"""AuthnRequests at the IdP: read and verified, parked while the user signs in, remembered once answered (replay)."""

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import AnsweredRequest, Application, ParkedRequest
from ..saml import errors
from ..saml.authn_request import MAX_REQUEST_AGE, AuthnRequest, SpSettings, authn_request_parse
from ..saml.constants import BINDING_POST, BINDING_REDIRECT
from ..saml.errors import SamlRefusal

PARK_FOR = dt.timedelta(minutes=15)
ANSWERED_KEPT_FOR = MAX_REQUEST_AGE + dt.timedelta(minutes=5)  # longer than a request may be old


def sp_settings(application: Application) -> SpSettings:
    """The plain values the protocol code checks a request against."""
    return SpSettings(
        sso_url=application.sso_url,
        sp_entity_id=application.sp_entity_id,
        acs_urls=tuple(application.acs_urls),
        sp_certificate=application.sp_certificate,
    )


def sso_request_read(*, application: Application, method: str, query_string: str, form: dict) -> AuthnRequest:
    """Decode and verify an AuthnRequest sent with GET (Redirect binding) or POST (POST binding); refuse a replay."""
    sp = sp_settings(application)
    if method == "GET":
        authn = authn_request_parse(sp=sp, binding=BINDING_REDIRECT, query_string=query_string)
    else:
        authn = authn_request_parse(
            sp=sp,
            binding=BINDING_POST,
            saml_request=form.get("SAMLRequest", ""),
            relay_state=form.get("RelayState", ""),
        )
    answered = AnsweredRequest.objects.filter(application=application, request_id=authn.id)
    if answered.filter(expires_at__gt=timezone.now()).exists():
        raise _replay()
    return authn


def _replay() -> SamlRefusal:
    return SamlRefusal(
        errors.REPLAY,
        "This sign-in request has already been answered. Start the sign-in again from the app.",
    )


def sso_request_answered(*, application: Application, authn: AuthnRequest) -> None:
    """Remember that this request was answered; a second answer to it is a replay (refused, even when concurrent)."""
    if secrets.randbelow(200) == 0:
        answered_requests_prune()  # now and then, so the table holds only IDs that could still be replayed
    try:
        with transaction.atomic():
            AnsweredRequest.objects.create(
                application=application, request_id=authn.id, expires_at=timezone.now() + ANSWERED_KEPT_FOR
            )
    except IntegrityError:
        expired = AnsweredRequest.objects.filter(
            application=application, request_id=authn.id, expires_at__lte=timezone.now()
        ).update(expires_at=timezone.now() + ANSWERED_KEPT_FOR)
        if not expired:
            raise _replay() from None


def sso_request_park(*, application: Application, method: str, query_string: str, form: dict) -> ParkedRequest:
    """Keep a request server-side while the user signs in (the SP's cross-site POST carries no session cookie)."""
    ParkedRequest.objects.filter(expires_at__lt=timezone.now()).delete()
    return ParkedRequest.objects.create(
        token=secrets.token_urlsafe(32),
        application=application,
        method=method,
        query_string=query_string if method == "GET" else "",
        form={k: form[k] for k in ("SAMLRequest", "RelayState") if k in form} if method == "POST" else {},
        expires_at=timezone.now() + PARK_FOR,
    )


def sso_parked_take(*, application: Application, token: str) -> ParkedRequest:
    """The parked request with this token, still valid, for this application; or a refusal."""
    parked = ParkedRequest.objects.filter(token=token, application=application, expires_at__gt=timezone.now()).first()
    if parked is None:
        raise SamlRefusal(
            errors.EXPIRED, "This sign-in request has expired. Start the sign-in again from the app.", status=400
        )
    return parked


def answered_requests_prune() -> int:
    """Forget answered request IDs past their expiry (a request that old is refused anyway)."""
    deleted, _ = AnsweredRequest.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
