"""Reads about SSO applications."""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from core.url_policy import url_check
from directory.models import User

from .models import Application, KeyState, SigningKey
from .saml.metadata import idp_metadata_build


def application_access_exists(*, user_id: int) -> Exists:
    """A group of this user is authorized for the application at OuterRef("pk"): the group half of the access rule."""
    bindings = Application.authorized_groups.through.objects.filter(
        application=OuterRef("pk"), usergroup__members=user_id
    )
    return Exists(bindings)


def applications_for_user(*, user: User) -> QuerySet[Application]:
    """Applications this user may use: an active user of their organization, authorized through a group (default deny).

    This is the one home of the rule "may this user use this app": the portal's tiles and launch, and the IdP's
    check before it issues an assertion (through application_access_allowed), all ask here.
    """
    if user.organization_id is None or not user.is_active:
        return Application.objects.none()
    return Application.objects.filter(
        application_access_exists(user_id=user.pk), organization_id=user.organization_id
    ).order_by("label")


def application_access_allowed(*, user: User, application: Application) -> bool:
    """Whether this user may use this application (the rule of applications_for_user, for one application)."""
    if not user.is_active or user.organization_id is None or user.organization_id != application.organization_id:
        return False
    # The IdP's one-query lookup may already have brought the group half for this user (see idp/lookup.py).
    if getattr(application, "user_authorized_for", None) == user.pk:
        return bool(application.user_authorized)
    return applications_for_user(user=user).filter(pk=application.pk).exists()


def application_by_slug(*, slug: str) -> Application | None:
    """The application at this IdP URL slug, if any."""
    return Application.objects.select_related("organization").filter(idp_slug=slug).first()


def application_launch_url(application: Application) -> str:
    """Where a portal tile points: the IdP-initiated launch for SAML apps, the bookmark's URL for bookmarks.

    A bookmark URL is checked against the URL policy again before a browser is sent there, so a row
    stored before the policy existed is refused (ValidationError with a sentence) instead of followed.
    """
    if application.is_bookmark:
        try:
            return url_check(application.bookmark_url, field="bookmark URL")
        except ValidationError as exc:
            raise ValidationError(
                f"The address of {application.label} is not a valid https:// address, so Lanyard will not open it. "
                "Ask your administrator to correct it."
            ) from exc
    return reverse("ssoapps_saml:sso", args=[application.idp_slug])


def application_published_keys(*, application: Application) -> list[SigningKey]:
    """Keys the metadata publishes: the active one first, then any staged for rotation."""
    keys = application.signing_keys.filter(state__in=[KeyState.ACTIVE, KeyState.STAGED]).defer("private_key")
    return sorted(keys, key=lambda k: (k.state != KeyState.ACTIVE, -k.pk))


def application_active_key(*, application: Application) -> SigningKey | None:
    """The key that signs this application's responses."""
    return application.signing_keys.filter(state=KeyState.ACTIVE).defer("private_key").first()


def application_idp_metadata(*, application: Application) -> bytes:
    """The IdP metadata XML of this application, listing active and staged certificates."""
    return idp_metadata_build(
        entity_id=application.issuer,
        sso_url=application.sso_url,
        certificates=[k.certificate for k in application_published_keys(application=application)],
        nameid_formats=[application.nameid_format],
    )
