"""Factories for ssoapps, and row builders for the admin tenant-isolation test."""

from ssoapps import services
from ssoapps.models import Application
from tests.factories import ROW_BUILDERS

SP_ENTITY_ID = "https://sp.example.test/saml2/metadata/"
SP_ACS_URL = "https://sp.example.test/saml2/acs/"
SP_ACS_URL_2 = "https://sp.example.test/saml2/acs-alt/"


def application_in(org, **fields) -> Application:
    """A custom SAML application of `org`, created through the service (so it has an active signing key)."""
    values = {
        "label": f"App {org.slug}",
        "sp_entity_id": SP_ENTITY_ID,
        "acs_urls": [SP_ACS_URL, SP_ACS_URL_2],
        "attribute_statements": [
            {"name": "email", "source": "email"},
            {"name": "givenName", "source": "first_name"},
            {"name": "plan", "value": "enterprise"},
        ],
    }
    catalog_key = fields.pop("catalog_key", "custom-saml")
    values.update(fields)
    return services.application_create(organization=org, catalog_key=catalog_key, **values)


ROW_BUILDERS[Application] = application_in
