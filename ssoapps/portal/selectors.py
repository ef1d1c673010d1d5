"""Portal reads: the tiles a user sees and where each one leads."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.templatetags.static import static
from django.urls import reverse

from directory.models import User
from ssoapps import selectors as sso_selectors
from ssoapps.models import Application


@dataclass(frozen=True)
class Tile:
    """One app on the portal home page."""

    application: Application
    label: str
    description: str
    image_url: str
    initials: str
    launch_path: str
    opens_new_tab: bool


def applications_in_portal(*, user: User, search: str = "") -> QuerySet[Application]:
    """Apps this user is authorized for, switched on and shown in the portal, optionally filtered by a search term."""
    applications = sso_selectors.applications_for_user(user=user).filter(show_in_portal=True, sso_active=True)
    term = search.strip()
    if term:
        applications = applications.filter(Q(label__icontains=term) | Q(description__icontains=term))
    return applications


def application_visible_to(*, user: User, application: Application) -> bool:
    """Whether this app has a tile for this user: shown in the portal, switched on, and the user may use it."""
    return (
        application.show_in_portal
        and application.sso_active
        and sso_selectors.application_access_allowed(user=user, application=application)
    )


def application_launch_url(*, application: Application) -> str:
    """Where launching the app sends the browser: the bookmark's URL (checked again) or IdP-initiated SSO."""
    return sso_selectors.application_launch_url(application)


def _image_url(application: Application) -> str:
    image = getattr(application, "portal_image", "")
    if isinstance(image, str) and image.startswith("data:image/"):  # kept in the database as a data: URL
        return image
    try:
        logo = application.catalog_entry.logo
    except KeyError:
        return ""
    if not logo:
        return ""
    from django.contrib.staticfiles import finders

    path = f"ssoapps/logos/{logo}"
    return static(path) if finders.find(path) else ""


def _initials(label: str) -> str:
    words = [w for w in label.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def portal_tiles(*, user: User, search: str = "") -> list[Tile]:
    """The user's tiles, in label order."""
    return [
        Tile(
            application=app,
            label=app.label,
            description=app.description or _catalog_description(app),
            image_url=_image_url(app),
            initials=_initials(app.label),
            launch_path=reverse("portal:launch", kwargs={"slug": app.idp_slug}),
            opens_new_tab=app.is_bookmark,
        )
        for app in applications_in_portal(user=user, search=search)
    ]


def _catalog_description(application: Application) -> str:
    try:
        return application.catalog_entry.description
    except KeyError:
        return ""
