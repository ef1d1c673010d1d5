"""Demo data for SSO: the "Demo SP" SAML application for the stand-in SP in demo/sp, for Engineering (idempotent)."""

import os

from directory.models import Organization, UserGroup

from . import services
from .models import Application

DEMO_SP_SLUG = "demo-sp"
DEMO_SP_GROUP = "Engineering"


def seed_applications(*, organization: Organization) -> Application:
    """Create (once) the Demo SP app for DEMO_SP_URL (default http://127.0.0.1:8001) and authorize Engineering."""
    sp_url = os.environ.get("DEMO_SP_URL", "http://127.0.0.1:8001").rstrip("/")
    application = Application.objects.filter(idp_slug=DEMO_SP_SLUG).first()
    if application is None:
        application = services.application_create(
            organization=organization,
            catalog_key="custom-saml",
            idp_slug=DEMO_SP_SLUG,
            label="Demo SP",
            description="A stand-in for an app like ClickUp (demo/sp). Shows who signed in and the attributes sent.",
            sp_entity_id=f"{sp_url}/saml2/metadata/",
            acs_urls=[f"{sp_url}/saml2/acs/"],
            attribute_statements=[
                {"name": "email", "source": "email"},
                {"name": "givenName", "source": "first_name"},
                {"name": "sn", "source": "last_name"},
                {"name": "department", "source": "department"},
            ],
            group_attribute_name="groups",
        )
    group = UserGroup.objects.filter(organization=organization, name=DEMO_SP_GROUP).first()
    if group is not None and application.organization_id == organization.pk:
        services.application_groups_bind(application=application, groups=[group])
    return application
