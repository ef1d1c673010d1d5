"""What every recorded event carries: initiator snapshot, client, a shared correlation id, no secrets."""

import json

import pytest
from django.urls import reverse

from insights import services
from insights.context import bind, current, job_bound
from insights.models import Event, Service
from insights.services import REDACTED, record
from tests.factories import UserFactory
from tests.insights.factories import api_key_in

pytestmark = pytest.mark.django_db


def test_an_admin_request_records_initiator_client_and_user_agent(admin_client, tenant_admin):
    admin_client.post(
        reverse("admin:insights_apikey_add"),
        {"name": "siem"},
        HTTP_USER_AGENT="Mozilla/5.0 test",
        REMOTE_ADDR="203.0.113.9",
    )
    created = Event.objects.get(event_type="insights_api_key_create")
    assert created.initiated_by == {"type": "admin", "id": str(tenant_admin.pk), "email": tenant_admin.email}
    assert (created.client_ip, created.user_agent) == ("203.0.113.9", "Mozilla/5.0 test")
    assert created.organization == tenant_admin.organization
    assert len(created.correlation_id) == 36


def test_everything_one_request_caused_shares_a_correlation_id(admin_client, org):
    keys = [api_key_in(org, name=f"k{i}")[0] for i in range(3)]
    changelist = reverse("admin:insights_apikey_changelist")
    admin_client.post(changelist, {"action": "revoke_keys", "_selected_action": [keys[0].pk, keys[1].pk]})
    admin_client.post(changelist, {"action": "revoke_keys", "_selected_action": [keys[2].pk]})
    first_request = Event.objects.filter(resource_id__in=[str(keys[0].pk), str(keys[1].pk)])
    second_request = Event.objects.get(event_type="insights_api_key_revoke", resource_id=str(keys[2].pk))
    assert first_request.count() == 2
    assert len({e.correlation_id for e in first_request}) == 1
    assert second_request.correlation_id != first_request[0].correlation_id


def test_the_initiator_is_a_snapshot_that_outlives_the_user(org):
    ann = UserFactory(organization=org, email="Ann@Org-A.test")
    written = record(event_type="user_update", service=Service.DIRECTORY, organization=org, actor=ann, resource=ann)
    ann_id = ann.pk
    ann.delete()
    written.refresh_from_db()
    assert written.initiated_by == {"type": "user", "id": str(ann_id), "email": "ann@org-a.test"}
    assert written.resource == {"type": "user", "id": str(ann_id), "name": "ann@org-a.test"}


@pytest.mark.parametrize(
    "field",
    ["password", "new_password", "scim_token", "bearer_token", "client_secret", "private_key", "api_key", "otp_seed"],
)
def test_secret_values_never_reach_changes(org, field):
    written = record(
        event_type="user_update",
        service=Service.DIRECTORY,
        organization=org,
        changes=[
            {"field": field, "from": "old-hunter2", "to": "new-hunter2"},
            {"field": "title", "from": "a", "to": "b"},
        ],
    )
    written.refresh_from_db()
    assert written.changes[0] == {"field": field, "from": REDACTED, "to": REDACTED}
    assert written.changes[1] == {"field": "title", "from": "a", "to": "b"}
    assert "hunter2" not in json.dumps(list(Event.objects.values()), default=str)


def test_a_job_gets_its_own_correlation_id_and_a_system_initiator(org):
    @job_bound
    def job(tag):
        record(event_type="user_update_provision", service=Service.SCIM, organization=org, message=tag)
        record(event_type="user_lookup_provision", service=Service.SCIM, organization=org, message=tag)
        return current().correlation_id

    with bind(correlation_id="request-1", client_ip="198.51.100.1", user_agent="browser"):
        job_id = job("a")
        shared = job("b", correlation_id=current().correlation_id)
    first = Event.objects.filter(message="a")
    assert {e.correlation_id for e in first} == {job_id} and job_id != "request-1"
    assert {e.initiator_type for e in first} == {"system"}
    assert {e.client_ip for e in first} == {None}
    assert shared == "request-1"
    assert {e.correlation_id for e in Event.objects.filter(message="b")} == {"request-1"}


@pytest.mark.parametrize(
    ("remote_addr", "forwarded", "proxies", "expected"),
    [
        ("198.51.100.4", "", 0, "198.51.100.4"),
        ("10.0.0.2", "203.0.113.5", 0, "10.0.0.2"),  # no trusted proxy: the header is the client's word
        ("10.0.0.2", "6.6.6.6, 203.0.113.5", 1, "203.0.113.5"),  # the entry our proxy appended
        ("10.0.0.2", "not-an-ip", 1, None),
        ("", "", 0, None),
    ],
)
def test_the_client_ip_honours_only_trusted_proxies(settings, rf, remote_addr, forwarded, proxies, expected):
    from insights.middleware import client_ip_from

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip_from(request) == expected


def test_overlong_snapshots_are_cut_to_fit_instead_of_failing_the_write(org):
    written = record(
        event_type="user_update",
        service=Service.DIRECTORY,
        organization=org,
        initiator={"type": "system", "id": None, "email": "x" * 300},
        resource={"type": "user" * 20, "id": "9" * 100, "name": "n" * 400},
    )
    written.refresh_from_db()
    assert written.initiator_id == ""
    assert (len(written.initiator_email), len(written.resource_type), len(written.resource_id)) == (254, 32, 64)
    assert len(written.resource_name) == 255


# --- strings from outside (issue 10, finding 8) ---------------------------------------------------


def test_a_nul_in_any_recorded_string_cannot_fail_the_write(org, settings):
    """A login email, a user agent, an app's error message: all come from outside, and PostgreSQL refuses a NUL."""
    settings.EVENT_TYPES_STRICT = False  # production: even a mangled type is written, never lost
    with bind(user_agent="agent\x00x", correlation_id="c\x00"):
        event = record(
            event_type="sso_auth\x00",
            service=Service.SSO,
            organization=org,
            success=False,
            initiator={"type": "user", "id": "7\x00", "email": "eve\x00@example.test"},
            resource={"type": "application", "id": "1\x00", "name": "app\x00"},
            message="the app said: \x00\ud800 bad",
            changes=[
                {"field": "title\x00", "from": ["a\x00", {"k\x00": "v\x00"}], "to": float("nan")},
                {"field": "ratio", "from": float("inf"), "to": 1.5},
            ],
        )
    event.refresh_from_db()
    assert event.user_agent == "agent\ufffdx" and event.correlation_id == "c\ufffd"
    assert event.initiated_by == {"type": "user", "id": "7\ufffd", "email": "eve\ufffd@example.test"}
    assert (event.resource_id, event.resource_name, event.event_type) == ("1\ufffd", "app\ufffd", "sso_auth\ufffd")
    assert event.message == "the app said: \ufffd\ufffd bad"
    assert event.changes == [
        {"field": "title\ufffd", "from": ["a\ufffd", {"k\ufffd": "v\ufffd"}], "to": "nan"},
        {"field": "ratio", "from": "inf", "to": 1.5},
    ]


def test_a_user_agent_with_a_nul_does_not_turn_a_refusal_into_a_500(client):
    response = client.get("/saml2/no-such-app", HTTP_USER_AGENT="curl\x00/8")
    assert response.status_code == 404
    assert Event.objects.get(event_type="sso_auth").user_agent == "curl\ufffd/8"


def test_a_huge_message_is_cut_to_a_bound(org):
    event = record(event_type="user_update", service=Service.DIRECTORY, organization=org, message="x" * 1_000_000)
    event.refresh_from_db()
    assert len(event.message) == services.MAX_MESSAGE_CHARS
