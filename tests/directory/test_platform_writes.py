"""Platform-level writes go through a service and leave an event: adding a tenant, making an operator."""

import pytest
from django.urls import reverse

from directory import services
from directory.models import Organization
from directory.permissions import Refused
from insights.models import Event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("ops@lanyard.test", "pw-ops-123456")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


def test_adding_an_organization_in_the_admin_is_recorded(operator_client, operator):
    response = operator_client.post(
        reverse("admin:directory_organization_add"), {"name": "Acme", "slug": "acme", "require_mfa": "on"}
    )
    assert response.status_code == 302
    acme = Organization.objects.get(slug="acme")
    assert acme.require_mfa is True
    event = Event.objects.get(event_type="organization_create")
    assert (event.organization, event.resource_id, event.initiator_email) == (acme, str(acme.pk), operator.email)
    assert {c["field"]: c["to"] for c in event.changes} == {"name": "Acme", "slug": "acme", "require_mfa": True}


def test_only_an_operator_may_create_an_organization(tenant_admin):
    with pytest.raises(Refused, match="Only a platform operator can add an organization"):
        services.organization_create(name="Mine", slug="mine", actor=tenant_admin)
    assert not Organization.objects.filter(slug="mine").exists()
    refusal = Event.objects.get(event_type="organization_create")
    assert refusal.success is False and refusal.initiator_email == tenant_admin.email


def test_making_an_operator_in_the_admin_is_recorded(operator_client, operator, org):
    target = UserFactory(organization=org)
    response = operator_client.post(
        reverse("admin:directory_user_change", args=[target.pk]),
        {
            "organization": org.pk,
            "email": target.email,
            "username": target.username,
            "state": "active",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    target.refresh_from_db()
    assert target.is_superuser is True
    event = Event.objects.get(event_type="user_superuser_update")
    assert event.changes == [{"field": "is_superuser", "from": False, "to": True}]
    assert (event.resource_id, event.initiator_email) == (str(target.pk), operator.email)


def test_only_an_operator_may_make_an_operator(tenant_admin, org):
    target = UserFactory(organization=org)
    with pytest.raises(Refused, match="platform operator"):
        services.user_superuser_set(user=target, is_superuser=True, actor=tenant_admin)
    target.refresh_from_db()
    assert target.is_superuser is False
    assert Event.objects.get(event_type="user_superuser_update").success is False
