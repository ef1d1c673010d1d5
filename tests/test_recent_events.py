"""Each user, application and integration page lists that object's recent events."""

import pytest
from django.urls import reverse

from insights.services import record
from provisioning.services import integration_configure
from ssoapps.services import application_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def section(page) -> str:
    html = page.content.decode()
    assert html.count("Recent events") >= 1
    return html[html.index("Recent events") :]


def test_application_page_lists_its_events(admin_client, org):
    application = application_create(organization=org, catalog_key="custom-saml", label="Wiki", idp_slug="wiki")
    page = admin_client.get(reverse("admin:ssoapps_application_change", args=[application.pk]))
    assert page.status_code == 200
    assert "application_create" in section(page)


def test_integration_page_lists_its_events_once(admin_client, org):
    application = application_create(organization=org, catalog_key="custom-saml", label="Wiki", idp_slug="wiki")
    integration = integration_configure(application=application, base_url="https://sp.example.test/scim/v2", token="t")
    page = admin_client.get(reverse("admin:provisioning_integration_change", args=[integration.pk]))
    assert page.status_code == 200
    assert "idm_integration_update" in section(page)
    assert page.content.decode().count('class="form-row field-recent_events') == 1


def test_user_page_lists_provisioning_events_of_the_user(admin_client, org):
    user = UserFactory(organization=org)
    record(
        event_type="user_create_provision",
        service="scim",
        organization=org,
        resource={"type": "user", "id": user.pk, "name": user.email},
        message="created in Wiki",
    )
    page = admin_client.get(reverse("admin:directory_user_change", args=[user.pk]))
    assert "user_create_provision" in section(page)
