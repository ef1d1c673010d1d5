"""Demo data for the portal: a bookmark tile for everyone in acme (idempotent).

The Demo SP's SAML app (for Engineering) is seeded by ssoapps.demo_data; this adds the tile
every acme user sees, so the portal shows both kinds of app and nobody's page is empty.
"""

from directory.models import Organization, UserGroup
from ssoapps import services as sso_services
from ssoapps.models import Application

HANDBOOK_SLUG = "handbook"


def seed_portal(*, organization: Organization) -> Application:
    """Create (once) the "Company handbook" bookmark and authorize the group Everyone for it."""
    application = Application.objects.filter(idp_slug=HANDBOOK_SLUG).first()
    if application is None:
        application = sso_services.application_create(
            organization=organization,
            catalog_key="bookmark",
            idp_slug=HANDBOOK_SLUG,
            label="Company handbook",
            description="How we work at Acme.",
            bookmark_url="https://example.com/",
        )
    everyone = UserGroup.objects.filter(organization=organization, name="Everyone").first()
    if everyone is not None and application.organization_id == organization.pk:
        sso_services.application_groups_bind(application=application, groups=[everyone])
    return application
