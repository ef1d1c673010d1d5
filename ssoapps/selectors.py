"""Reads about SSO applications."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse

from core.url_policy import url_check
from directory.models import User

from .models import Application, KeyState, SigningKey
from .saml.metadata import idp_metadata_build


def applications_for_user(*, user: User) -> QuerySet[Application]:
    """Applications this user may use: authorized through one of their groups (default deny)."""
    if user.organization_id is None or not user.is_active:
        return Application.objects.none()
    return (
        Application.objects.filter(organization_id=user.organization_id, authorized_groups__members=user)
        .distinct()
        .order_by("label")
    )


def user_is_authorized(*, user: User, application: Application) -> bool:
    """Whether this user may sign in to this application."""
    return (
        user.is_active
        and user.organization_id == application.organization_id
        and application.authorized_groups.filter(members=user).exists()
    )


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
