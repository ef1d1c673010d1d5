"""A tenant's Administrators change their own organization's settings; only operators add or remove tenants."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.urls import reverse

from directory.models import Organization
from directory.roles import MANAGER, READ_ONLY
from insights.models import Event
from tests.factories import TenantAdminFactory

pytestmark = pytest.mark.django_db


def test_administrator_can_require_mfa_for_the_organization(admin_client, org, tenant_admin):
    url = reverse("admin:directory_organization_change", args=[org.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    response = admin_client.post(url, {"name": "Org A", "require_mfa": "on", "slug": "hijacked"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.require_mfa is True
    assert org.slug == "org-a"  # read-only for tenants
    event = Event.objects.get(event_type="organization_update")
    assert event.changes == [{"field": "require_mfa", "from": False, "to": True}]
    assert event.initiator_email == tenant_admin.email


def test_tenants_cannot_add_or_delete_organizations(admin_client, org):
    assert admin_client.get(reverse("admin:directory_organization_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:directory_organization_delete", args=[org.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Organization.objects.filter(pk=org.pk).exists()


def test_read_only_role_cannot_change_settings(client, org):
    viewer = TenantAdminFactory(organization=org, roles=[Group.objects.get(name=READ_ONLY)])
    client.force_login(viewer)
    url = reverse("admin:directory_organization_change", args=[org.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"name": "Renamed", "require_mfa": "on"})
    org.refresh_from_db()
    assert org.name == "Org A" and org.require_mfa is False


def test_manager_cannot_switch_off_require_mfa_or_rename_the_organization(client, org):
    """Finding 6: a Manager switched off the organization's "require MFA" (and renamed it) in the admin."""
    org.require_mfa = True
    org.save()
    manager = TenantAdminFactory(organization=org, roles=[Group.objects.get(name=MANAGER)])
    TOTP.activate(manager, generate_totp_secret())  # the organization requires MFA of everyone
    client.force_login(manager)
    url = reverse("admin:directory_organization_change", args=[org.pk])
    page = client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]  # shown read-only
    response = client.post(url, {"name": "Renamed", "slug": org.slug}, follow=True)
    org.refresh_from_db()
    assert org.require_mfa is True and org.name == "Org A"
    assert "Your admin role (Manager) cannot change the settings of the organization" in response.content.decode()
    refusal = Event.objects.get(event_type="organization_update")
    assert not refusal.success and refusal.initiator_email == manager.email
