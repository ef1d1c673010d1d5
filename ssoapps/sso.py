"""One SSO attempt at the IdP: find the app, read the request, decide, issue the response, log the outcome."""

import base64
import datetime as dt
import secrets
import threading
from contextlib import nullcontext
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from core.url_policy import url_check
from directory.models import User, UserState
from insights.models import Service
from insights.services import record

from .models import AnsweredRequest, Application, KeyState, ParkedRequest, SigningKey
from .saml import errors
from .saml.authn_request import MAX_REQUEST_AGE, AuthnRequest, SpSettings, authn_request_parse, relay_state_check
from .saml.constants import BINDING_POST, BINDING_REDIRECT
from .saml.errors import SamlRefusal
from .saml.response import ResponseSpec, response_build
from .saml.signing import signing_key_load

PARK_FOR = dt.timedelta(minutes=15)
ANSWERED_KEPT_FOR = MAX_REQUEST_AGE + dt.timedelta(minutes=5)  # longer than a request may be old


@dataclass(frozen=True)
class IssuedResponse:
    """What the auto-submitting POST form carries to the app."""

    acs_url: str
    saml_response: str  # base64
    relay_state: str


_SLUG_SENTINEL = "\x00lanyard-slug\x00"
_USER_SENTINEL = -7_000_000_001


def _lookup_queryset(*, slug: str, user_id: int | None) -> QuerySet[Application]:
    """The application at a slug, annotated with its active key's version and the user's authorization."""
    active_keys = SigningKey.objects.filter(application=OuterRef("pk"), state=KeyState.ACTIVE)
    annotations = {
        "active_key_pk": Subquery(active_keys.values("pk")[:1]),
        "active_key_fingerprint": Subquery(active_keys.values("fingerprint")[:1]),
    }
    if user_id is not None:
        bindings = Application.authorized_groups.through.objects.filter(
            application=OuterRef("pk"), usergroup__members=user_id
        )
        annotations["user_authorized"] = Exists(bindings)
    return Application.objects.annotate(**annotations).filter(idp_slug=slug)


_compiled = threading.local()


@dataclass(frozen=True)
class _CompiledLookup:
    """The lookup's SQL with its converters, compiled by the ORM once per thread (compiling costs more than running)."""

    compiler: SQLCompiler
    sql: str
    params: tuple
    converters: dict
    field_names: list[str]
    annotations: dict[str, int]


def _lookup_compiled(alias: str, with_user: bool) -> _CompiledLookup:
    cache = _compiled.__dict__.setdefault("lookups", {})
    key = (alias, with_user)
    if key not in cache:
        queryset = _lookup_queryset(slug=_SLUG_SENTINEL, user_id=_USER_SENTINEL if with_user else None)
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        cache[key] = _CompiledLookup(
            compiler=compiler,
            sql=sql,
            params=params,
            converters=compiler.get_converters([column[0] for column in compiler.select]),
            field_names=[f.attname for f in Application._meta.concrete_fields],
            annotations=dict(compiler.annotation_col_map),
        )
    return cache[key]


def sso_application_get(*, slug: str, user: User | None = None) -> Application:
    """The SAML application at this IdP URL, or a refusal.

    One query also brings the active key's version and, for a signed-in user, whether a group of
    theirs is authorized: the launch path stays at a handful of queries.
    """
    user_id = user.pk if user is not None and user.is_authenticated else None
    lookup = _lookup_compiled(DEFAULT_DB_ALIAS, user_id is not None)
    params = tuple(slug if p == _SLUG_SENTINEL else user_id if p == _USER_SENTINEL else p for p in lookup.params)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(lookup.sql, params)
        rows = cursor.fetchmany(1)
    application = None
    for row in lookup.compiler.apply_converters(rows, lookup.converters):
        application = Application.from_db(DEFAULT_DB_ALIAS, lookup.field_names, row[: len(lookup.field_names)])
        for name, position in lookup.annotations.items():
            setattr(application, name, row[position])
    if application is not None and user_id is not None and user.organization_id == application.organization_id:
        # the same organization object the request already loaded for the user: no second fetch
        Application.organization.field.set_cached_value(application, user.organization)
    if application is None:
        raise SamlRefusal(
            errors.UNKNOWN_SLUG,
            "There is no application at this address. Check the link, or start from your Lanyard portal.",
            status=404,
        )
    if application.is_bookmark:
        raise SamlRefusal(errors.BAD_REQUEST, "This application is a bookmark and has no single sign-on.", status=404)
    if not application.sso_active:
        raise SamlRefusal(
            errors.APP_INACTIVE,
            f"Single sign-on to {application.label} is switched off. Ask your administrator to turn it on.",
            status=403,
        )
    return application


def _sp_settings(application: Application) -> SpSettings:
    return SpSettings(
        sso_url=application.sso_url,
        sp_entity_id=application.sp_entity_id,
        acs_urls=tuple(application.acs_urls),
        sp_certificate=application.sp_certificate,
    )


def sso_request_read(*, application: Application, method: str, query_string: str, form: dict) -> AuthnRequest:
    """Decode and verify an AuthnRequest sent with GET (Redirect binding) or POST (POST binding)."""
    sp = _sp_settings(application)
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


def suspended_user(*, user_id) -> User | None:
    """The user of a session that no longer authenticates because the user is suspended."""
    if user_id is None:
        return None
    return User.objects.filter(pk=user_id, state=UserState.SUSPENDED).first()


def _user_check(application: Application, user: User) -> None:
    if not user.is_active:
        raise SamlRefusal(
            errors.USER_SUSPENDED,
            "Your account is suspended, so you cannot sign in to applications. Contact your administrator.",
            status=403,
        )
    authorized = getattr(application, "user_authorized", None)
    if authorized is None:
        authorized = application.authorized_groups.filter(members=user).exists()
    authorized = authorized and user.organization_id == application.organization_id
    if not authorized:
        raise SamlRefusal(
            errors.NOT_AUTHORIZED,
            f"You are not allowed to use {application.label}. Ask your administrator to add you to a group "
            "that has access to it.",
            status=403,
        )


def _attribute_value(user: User, source: str) -> str:
    if source == "full_name":
        return user.get_full_name()
    if source == "id":
        return str(user.pk)
    return str(getattr(user, source, "") or "")


def _attributes(application: Application, user: User) -> list[tuple[str, list[str]]]:
    attributes = []
    for statement in application.attribute_statements:
        if "source" in statement and statement["source"]:
            value = _attribute_value(user, statement["source"])
        else:
            value = str(statement.get("value", ""))
        attributes.append((statement["name"], [value]))
    if application.group_attribute_name:
        names = list(
            user.user_groups.filter(organization_id=application.organization_id).values_list("name", flat=True)
        )
        attributes.append((application.group_attribute_name, names))
    return attributes


def _signing_key(application: Application):
    key_pk = getattr(application, "active_key_pk", None)
    fingerprint = getattr(application, "active_key_fingerprint", None)
    if key_pk is None:
        active = application.signing_keys.filter(state=KeyState.ACTIVE).only("pk", "fingerprint").first()
        if active is None:
            from .services import signing_key_create

            active = signing_key_create(application=application, state=KeyState.ACTIVE)
        key_pk, fingerprint = active.pk, active.fingerprint

    def load() -> tuple[str, str]:
        return SigningKey.objects.values_list("private_key", "certificate").get(pk=key_pk)

    return signing_key_load(f"{key_pk}:{fingerprint}", load)


def sso_response_issue(*, application: Application, user: User, authn: AuthnRequest | None) -> IssuedResponse:
    """Check the user may use the app, then build and sign the Response; records sso_auth success."""
    _user_check(application, user)
    if authn is None:
        acs_url = application.default_acs_url
        if not acs_url:
            raise SamlRefusal(
                errors.UNKNOWN_ACS, "No ACS URL is configured for this app. Ask your administrator to add one."
            )
        relay_state = relay_state_check(application.default_relay_state)
    else:
        acs_url, relay_state = authn.acs_url, authn.relay_state
    _acs_url_check(acs_url)
    spec = ResponseSpec(
        issuer=application.issuer,
        destination=acs_url,
        audience=application.sp_entity_id,
        name_id=_attribute_value(user, application.nameid_source),
        name_id_format=application.nameid_format,
        in_response_to=authn.id if authn else None,
        attributes=_attributes(application, user),
        sign_response=application.sign_response,
        sign_assertion=application.sign_assertion,
        algorithm=application.signature_algorithm,
    )
    key = _signing_key(application) if (spec.sign_response or spec.sign_assertion) else None
    document = response_build(spec, key=key)
    if authn is not None and secrets.randbelow(200) == 0:
        answered_requests_prune()  # now and then, so the table holds only IDs that could still be replayed
    with transaction.atomic() if authn is not None else nullcontext():
        if authn is not None:
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
        record(
            event_type="sso_auth",
            service=Service.SSO,
            organization=application.organization,
            resource=application,
            actor=user,
            message=f"{user.email} signed in to {application.label} ({'SP-initiated' if authn else 'IdP-initiated'})",
        )
    return IssuedResponse(acs_url=acs_url, saml_response=base64.b64encode(document).decode(), relay_state=relay_state)


def _acs_url_check(acs_url: str) -> None:
    """The POST form's action is checked again here: a row stored before the URL policy must not reach the page."""
    try:
        url_check(acs_url, field="ACS URL")
    except ValidationError as exc:
        raise SamlRefusal(
            errors.UNKNOWN_ACS,
            "This app's sign-in address (ACS URL) is not a valid https:// address, so Lanyard will not send you "
            "there. Ask your administrator to correct it.",
            status=400,
        ) from exc


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


def answered_requests_prune() -> int:
    """Forget answered request IDs past their expiry (a request that old is refused anyway)."""
    deleted, _ = AnsweredRequest.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
