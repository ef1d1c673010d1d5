"""API keys: created in the admin, shown once, stored hashed, revocable, scoped to their organization."""

import hashlib
import re

import pytest
from django.urls import reverse

from insights.models import ApiKey, Event
from tests.insights.conftest import API, event
from tests.insights.factories import api_key_in

pytestmark = pytest.mark.django_db


def create_key_in_admin(admin_client, name="SIEM export"):
    response = admin_client.post(reverse("admin:insights_apikey_add"), {"name": name})
    assert response.status_code == 200, response.content
    secret = re.search(r'id="secret-value"[^>]*>([^<]+)<', response.content.decode()).group(1)
    return response, secret


def test_admin_creates_a_key_and_sees_it_once(admin_client, tenant_admin, org, start):
    response, secret = create_key_in_admin(admin_client)
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get()
    assert key.organization == org
    assert key.created_by_email == tenant_admin.email
    # only the hash is stored
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(getattr(key, f.attname)) for f in ApiKey._meta.fields}
    assert secret.startswith(key.prefix)
    # never shown again
    for url in (reverse("admin:insights_apikey_changelist"), reverse("admin:insights_apikey_change", args=[key.pk])):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert secret not in page.content.decode()
    # the key works, for its own organization
    own = event(org)
    response = admin_client.get(API, {"start": start}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert own.pk in [row["id"] for row in response.json()["events"]]


def test_creating_a_key_is_recorded_without_the_secret(admin_client, tenant_admin):
    _, secret = create_key_in_admin(admin_client)
    created = Event.objects.get(event_type="insights_api_key_create")
    assert created.initiator_email == tenant_admin.email
    assert created.resource_type == "api_key"
    assert secret not in str(Event.objects.values().get(pk=created.pk))


def test_revoking_in_the_admin_stops_the_key(admin_client, org, start):
    key, secret = api_key_in(org)
    response = admin_client.post(
        reverse("admin:insights_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert admin_client.get(API, {"start": start}, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert Event.objects.filter(event_type="insights_api_key_revoke", resource_id=str(key.pk)).count() == 1


def test_an_empty_name_is_refused_with_a_sentence(admin_client):
    response = admin_client.post(reverse("admin:insights_apikey_add"), {"name": ""})
    assert response.status_code == 200
    assert not ApiKey.objects.exists()
    assert "This field is required" in response.content.decode()


def test_a_key_reads_only_its_own_organization(client, org, other_org, start):
    _, ours = api_key_in(org)
    _, theirs = api_key_in(other_org)
    mine, foreign = event(org), event(other_org)
    seen_by_ours = [
        r["id"] for r in client.get(API, {"start": start}, HTTP_AUTHORIZATION=f"Bearer {ours}").json()["events"]
    ]
    seen_by_theirs = [
        r["id"] for r in client.get(API, {"start": start}, HTTP_AUTHORIZATION=f"Bearer {theirs}").json()["events"]
    ]
    assert seen_by_ours == [mine.pk]
    assert seen_by_theirs == [foreign.pk]


def test_a_tenant_admin_cannot_revoke_another_organizations_key(admin_client, other_org, start, client):
    key, secret = api_key_in(other_org)
    admin_client.post(
        reverse("admin:insights_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]}
    )
    key.refresh_from_db()
    assert key.revoked_at is None
    assert admin_client.get(reverse("admin:insights_apikey_change", args=[key.pk])).status_code in (302, 404)
