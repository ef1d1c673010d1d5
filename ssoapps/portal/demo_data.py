"""Demo data for the portal: the demo SP (demo/sp) and a bookmark as tiles for everyone in acme (idempotent)."""

import os

from directory.models import Organization, UserGroup
from ssoapps import services as sso_services
from ssoapps.models import Application

DEMO_SP_SLUG = "demo-sp"


def seed_portal(*, organization: Organization) -> list[Application]:
    """Create (once) the Demo SP app matching demo/sp's defaults and a handbook bookmark, for group Everyone."""
    sp_url = os.environ.get("DEMO_SP_URL", "http://127.0.0.1:8001").rstrip("/")
    wanted = [
        {
            "catalog_key": "custom-saml",
            "idp_slug": DEMO_SP_SLUG,
            "label": "Demo SP",
            "description": "A stand-in for an app like ClickUp (demo/sp). Shows who signed in and the attributes sent.",
            "sp_entity_id": f"{sp_url}/saml2/metadata/",
            "acs_urls": [f"{sp_url}/saml2/acs/"],
            "attribute_statements": [
                {"name": "email", "source": "email"},
                {"name": "givenName", "source": "first_name"},
                {"name": "sn", "source": "last_name"},
                {"name": "department", "source": "department"},
            ],
            "group_attribute_name": "groups",
        },
        {
            "catalog_key": "bookmark",
            "idp_slug": "handbook",
            "label": "Company handbook",
            "description": "How we work at Acme.",
            "bookmark_url": "https://example.com/",
        },
    ]
    everyone = UserGroup.objects.filter(organization=organization, name="Everyone").first()
    applications = []
    for fields in wanted:
        application = Application.objects.filter(idp_slug=fields["idp_slug"]).first()
        if application is None:
            application = sso_services.application_create(organization=organization, **fields)
        if everyone is not None and application.organization_id == organization.pk:
            sso_services.application_groups_bind(application=application, groups=[everyone])
        applications.append(application)
    return applications
