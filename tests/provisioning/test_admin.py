"""The integration admin as a tenant admin uses it: configure, Activate, update, re-auth, deactivate, import."""

import httpx2
import pytest
from django.db import connection
from django.urls import reverse

from directory.models import User
from insights.models import Event
from provisioning import services
from provisioning.models import Integration, IntegrationStatus
from tests.factories import UserFactory
from tests.provisioning.conftest import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def _changelist_action(client, action: str, integration: Integration):
    return client.post(
        reverse("admin:provisioning_integration_changelist"),
        {"action": action, "_selected_action": [integration.pk]},
        follow=True,
    )


def _change(client, integration: Integration, **data):
    form = {"base_url": integration.base_url, "token": "", "rate_limit": integration.rate_limit, **data}
    return client.post(reverse("admin:provisioning_integration_change", args=[integration.pk]), form)


def test_configure_then_activate_with_a_wrong_token_then_a_right_one(admin_client, application, scim_server, run_jobs):
    response = admin_client.post(
        reverse("admin:provisioning_integration_add"),
        {"application": application.pk, "base_url": scim_server.base_url, "token": "not-the-token", "rate_limit": 50},
    )
    assert response.status_code == 302
    integration = Integration.objects.get(application=application)
    assert integration.status == IntegrationStatus.INACTIVE
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM provisioning_integration WHERE id = %s", [integration.pk])
        assert "not-the-token" not in cursor.fetchone()[0]  # encrypted at rest
    page = admin_client.get(reverse("admin:provisioning_integration_change", args=[integration.pk]))
    assert "not-the-token" not in page.content.decode()  # never displayed again

    page = _changelist_action(admin_client, "activate", integration)
    assert "refused the API token" in page.content.decode()
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.INACTIVE
    assert Event.objects.filter(event_type="idm_integration_activate", success=False).exists()

    assert _change(admin_client, integration, token=TOKEN).status_code == 302
    assert Event.objects.filter(event_type="idm_integration_reauth", success=True).exists()
    _changelist_action(admin_client, "activate", integration)
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ACTIVE
    assert integration.capabilities["patch"] is True
    assert Event.objects.filter(event_type="idm_integration_activate", success=True).exists()


def test_bad_url_or_token_on_an_active_integration_is_refused_and_nothing_changes(
    admin_client, integration, scim_server, run_jobs
):
    services.integration_activate(integration=integration)
    bad_url = scim_server.base_url.replace("/scim/v2", "/nothing-here")
    response = _change(admin_client, integration, base_url=bad_url, token=TOKEN)
    assert response.status_code == 200
    assert "Lanyard could not reach the app at 127.0.0.1; check the URL." in response.content.decode()
    response = _change(admin_client, integration, token="revoked")
    assert response.status_code == 200 and "refused the API token" in response.content.decode()
    integration.refresh_from_db()
    assert integration.base_url == scim_server.base_url and integration.token == TOKEN
    assert Event.objects.filter(event_type="idm_integration_update", success=False).exists()
    assert Event.objects.filter(event_type="idm_integration_reauth", success=False).exists()

    _changelist_action(admin_client, "deactivate", integration)
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.INACTIVE
    assert Event.objects.filter(event_type="idm_integration_delete", success=True).exists()


def _remote_user(server, email: str, *, active: bool = True) -> None:
    response = httpx2.post(
        f"{server.base_url}/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": email,
            "emails": [{"value": email, "primary": True}],
            "name": {"givenName": "Remote", "familyName": email.split("@")[0]},
            "active": active,
        },
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"},
    )
    assert response.status_code == 201


def test_import_lists_new_and_imported_leaves_out_suspended_and_creates_users(
    org, admin_client, integration, scim_server
):
    services.integration_activate(integration=integration)
    UserFactory(organization=org, email="known@org-a.test")
    _remote_user(scim_server, "known@org-a.test")
    _remote_user(scim_server, "newbie@org-a.test")
    _remote_user(scim_server, "gone@org-a.test", active=False)
    url = reverse("admin:provisioning_integration_import", args=[integration.pk])

    page = admin_client.get(url).content.decode()
    assert "newbie@org-a.test" in page and "known@org-a.test" in page and "gone@org-a.test" not in page
    assert "Imported" in page
    only_new = admin_client.get(url, {"new": "1"}).content.decode()
    assert "known@org-a.test" not in only_new and "newbie@org-a.test" in only_new

    newbie_id = next(u["id"] for u in scim_server.users() if u["userName"] == "newbie@org-a.test")
    response = admin_client.post(url, {"remote_id": [newbie_id]}, follow=True)
    assert "1 imported" in response.content.decode()
    user = User.objects.get(email="newbie@org-a.test")
    assert user.organization == org and user.first_name == "Remote"
    assert Event.objects.filter(event_type="user_import", success=True, resource_name="newbie@org-a.test").exists()


def test_importing_more_than_100_runs_as_a_job_and_emails_the_admin(
    org, tenant_admin, admin_client, integration, scim_server, run_jobs, mailoutbox
):
    services.integration_activate(integration=integration)
    run_jobs()
    for i in range(101):
        _remote_user(scim_server, f"bulk{i}@org-a.test")
    ids = [u["id"] for u in scim_server.users()]
    url = reverse("admin:provisioning_integration_import", args=[integration.pk])
    response = admin_client.post(url, {"remote_id": ids}, follow=True)
    assert "in the background" in response.content.decode()
    assert not User.objects.filter(email="bulk0@org-a.test").exists()
    run_jobs()
    assert User.objects.filter(organization=org, email__startswith="bulk").count() == 101
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [tenant_admin.email]
    assert "101 imported" in mailoutbox[0].body
