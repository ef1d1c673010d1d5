"""Changes made in the event log's admin go through a service and leave an event: renaming a key, a webhook on/off."""

import pytest
from django.urls import reverse

from insights.models import ApiKey, Event, WebhookTarget
from tests.insights.factories import api_key_in

pytestmark = pytest.mark.django_db


def test_renaming_an_api_key_in_the_admin_is_recorded(admin_client, org, tenant_admin):
    key, _ = api_key_in(org)
    old_name = key.name
    response = admin_client.post(reverse("admin:insights_apikey_change", args=[key.pk]), {"name": "SIEM export"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "SIEM export"
    event = Event.objects.get(event_type="insights_api_key_update")
    assert event.changes == [{"field": "name", "from": old_name, "to": "SIEM export"}]
    assert (event.organization, event.initiator_email) == (org, tenant_admin.email)


def test_an_api_key_cannot_be_renamed_to_nothing(admin_client, org):
    key, _ = api_key_in(org)
    response = admin_client.post(reverse("admin:insights_apikey_change", args=[key.pk]), {"name": "  "})
    assert response.status_code == 200  # the form says what to do; nothing is written
    assert ApiKey.objects.get(pk=key.pk).name == key.name
    assert not Event.objects.filter(event_type="insights_api_key_update").exists()


@pytest.mark.parametrize(
    ("before", "after", "event_type"),
    [(True, False, "insights_webhook_disable"), (False, True, "insights_webhook_enable")],
)
def test_switching_a_webhook_in_the_admin_is_recorded(admin_client, org, tenant_admin, before, after, event_type):
    target = WebhookTarget.objects.create(
        organization=org, url="https://siem.example.com/events", active=before, consecutive_failures=3
    )
    data = {"active": "on"} if after else {}
    response = admin_client.post(reverse("admin:insights_webhooktarget_change", args=[target.pk]), data)
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.active is after
    assert target.consecutive_failures == (0 if after else 3)
    event = Event.objects.get(event_type=event_type)
    assert event.success is True and event.initiator_email == tenant_admin.email
    assert event.changes == [{"field": "active", "from": before, "to": after}]
