"""The application at an IdP URL, in one query that also brings its active key and the user's authorization."""

import threading
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.sql.compiler import SQLCompiler

from directory.models import User

from ..models import Application, KeyState, SigningKey
from ..saml import errors
from ..saml.errors import SamlRefusal
from ..selectors import application_access_exists

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
        annotations["user_authorized"] = application_access_exists(user_id=user_id)
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
        if user_id is not None:
            application.user_authorized_for = user_id  # whom user_authorized is about (selectors read it)
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
