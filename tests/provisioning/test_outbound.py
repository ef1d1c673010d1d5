"""Finding 5: the SCIM base URL cannot carry the stored token elsewhere, probe a network, or break the import page."""

import re
import socket

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from directory.roles import MANAGER
from insights.models import Event
from provisioning import importing, services
from provisioning.models import Integration, IntegrationStatus
from tests.core.servers import RawServer, RecordingServer, closed_port
from tests.factories import TenantAdminFactory
from tests.provisioning.conftest import TOKEN
from tests.provisioning.factories import IntegrationFactory

pytestmark = pytest.mark.django_db(transaction=True)

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@pytest.fixture
def manager_client(client, org):
    """A client signed in as a Manager of `org` (may change integrations, may not read their token)."""
    client.force_login(TenantAdminFactory(organization=org, roles=[Group.objects.get(name=MANAGER)]))
    return client


@pytest.fixture
def attacker():
    """An HTTP server the Manager controls, recording every request and its Authorization header."""
    server = RecordingServer(body={"schemas": [LIST_RESPONSE], "totalResults": 0, "Resources": []})
    yield server
    server.stop()


def _change(client, integration: Integration, **data):
    form = {"base_url": integration.base_url, "token": "", "rate_limit": integration.rate_limit, **data}
    return client.post(reverse("admin:provisioning_integration_change", args=[integration.pk]), form)


def _activate(client, integration: Integration) -> str:
    """Press Activate in the changelist; returns the messages the admin is shown."""
    response = client.post(
        reverse("admin:provisioning_integration_changelist"),
        {"action": "activate", "_selected_action": [integration.pk]},
        follow=True,
    )
    return " ".join(re.findall(r'<li class="(?:error|success|warning|info)">(.*?)</li>', response.content.decode()))


def _sent_the_token(server: RecordingServer) -> bool:
    return any(TOKEN in headers.get("Authorization", "") for _, _, headers in server.requests)


@pytest.mark.parametrize("status", [IntegrationStatus.ACTIVE, IntegrationStatus.INACTIVE])
def test_a_manager_cannot_repoint_the_url_without_entering_the_token_again(
    manager_client, integration, attacker, run_jobs, status
):
    if status == IntegrationStatus.ACTIVE:
        services.integration_activate(integration=integration)
    response = _change(manager_client, integration, base_url=f"{attacker.url}/scim/v2")
    assert response.status_code == 200
    assert "Enter the app&#x27;s API token again to change the SCIM base URL" in response.content.decode()
    integration.refresh_from_db()
    assert integration.base_url != f"{attacker.url}/scim/v2" and integration.token == TOKEN
    refused = Event.objects.get(event_type="idm_integration_update", success=False)
    assert "API token again" in refused.message and refused.initiator_type == "admin"
    _activate(manager_client, integration)  # Activate still talks to the app it was set up for
    assert attacker.requests == [] and not _sent_the_token(attacker)


def test_the_services_refuse_a_new_url_without_a_token(integration, attacker):
    with pytest.raises(ValidationError) as caught:
        services.integration_update_url(integration=integration, base_url=f"{attacker.url}/scim/v2", token="")
    assert "Enter the app's API token again" in " ".join(caught.value.messages)
    with pytest.raises(ValidationError):
        services.integration_configure(application=integration.application, base_url=f"{attacker.url}/x", token="")
    integration.refresh_from_db()
    assert integration.base_url != f"{attacker.url}/scim/v2"
    refused = Event.objects.get(event_type="idm_integration_update", success=False)
    assert "API token again" in refused.message
    services.integration_activate(integration=integration)
    assert attacker.requests == []


def test_a_new_url_with_the_token_entered_again_is_checked_with_that_token(admin_client, integration, scim_server):
    services.integration_activate(integration=integration)
    moved = scim_server.base_url.replace("127.0.0.1", "localhost")
    response = _change(admin_client, integration, base_url=moved, token=TOKEN)
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.base_url == moved and integration.token == TOKEN
    changed = Event.objects.filter(event_type="idm_integration_update", success=True).latest("id")
    assert {c["field"] for c in changed.changes} == {"base_url", "token"}
    assert TOKEN not in str(changed.changes)


def test_activate_against_a_private_address_says_only_could_not_reach(settings, admin_client, application, monkeypatch):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    tried: list = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        if sock.family == socket.AF_UNIX or str(address[0]).startswith("127."):  # the test Redis
            return real_connect(sock, address)
        tried.append(address)
        raise ConnectionRefusedError(111, "Connection refused (test)")

    monkeypatch.setattr(socket.socket, "connect", connect)
    integration = IntegrationFactory(application=application, base_url="https://10.0.0.1:6379/scim/v2", token=TOKEN)
    shown = _activate(admin_client, integration)
    assert shown == "Demo SP: Lanyard could not reach the app at 10.0.0.1; check the URL."
    assert tried == []  # nothing was sent anywhere
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.INACTIVE
    tenant_event = Event.objects.get(event_type="idm_integration_activate", success=False)
    assert tenant_event.message == "Lanyard could not reach the app at 10.0.0.1; check the URL."
    operators = Event.objects.get(event_type="outbound_failure")
    assert operators.organization is None  # the detail is for platform operators, not the tenant's log
    assert "10.0.0.1, a private address" in operators.message


def test_the_token_is_never_sent_to_a_refused_host(settings, admin_client, application, attacker):
    settings.OUTBOUND_ALLOWED_NETWORKS = []  # loopback is refused, as in production
    integration = IntegrationFactory(application=application, base_url=f"{attacker.url}/scim/v2", token=TOKEN)
    shown = _activate(admin_client, integration)
    assert shown == "Demo SP: Lanyard could not reach the app at 127.0.0.1; check the URL."
    with pytest.raises(ValidationError):
        importing.import_candidates(integration=integration)
    assert attacker.requests == []


def test_closed_ports_other_services_and_internal_json_all_read_the_same(admin_client, application):
    """On an allowed network, what answers (or not) cannot be told apart from the admin's side."""
    internal_json = RecordingServer(status=200, body={"message": "internal-secret-42", "items": [1, 2]})
    internal_error = RecordingServer(status=404, body={"detail": "internal-secret-43"})
    not_http = RawServer()
    urls = [
        f"http://127.0.0.1:{closed_port()}/scim/v2",
        f"{not_http.url}/scim/v2",
        f"{internal_json.url}/scim/v2",
        f"{internal_error.url}/scim/v2",
    ]
    messages = set()
    try:
        for url in urls:
            Integration.objects.filter(application=application).delete()
            integration = IntegrationFactory(application=application, base_url=url, token=TOKEN)
            messages.add(_activate(admin_client, integration))
            messages.add(Event.objects.filter(event_type="idm_integration_activate").latest("id").message)
    finally:
        for server in (internal_json, internal_error, not_http):
            server.stop()
    assert messages == {
        "Demo SP: Lanyard could not reach the app at 127.0.0.1; check the URL.",  # on the page
        "Lanyard could not reach the app at 127.0.0.1; check the URL.",  # in the organization's event log
    }


def _users(resources, total) -> dict:
    return {"schemas": [LIST_RESPONSE], "totalResults": total, "Resources": resources}


HOSTILE = {
    "odd totalResults": _users([{"id": "1", "userName": "ok@org-a.test"}], "many"),
    "totalResults as an object": _users([{"id": "1", "userName": "ok@org-a.test"}], {"n": 1}),
    "negative totalResults": _users([{"id": "1", "userName": "ok@org-a.test"}], -5),
    "name as a string": _users([{"id": "1", "userName": "ok@org-a.test", "name": "Mallory"}], 1),
    "name parts as lists": _users(
        [{"id": "1", "userName": "ok@org-a.test", "name": {"givenName": ["a"], "familyName": {"b": 1}}}], 1
    ),
    "odd emails and userName": _users(
        [
            {"id": "1", "userName": "ok@org-a.test", "emails": 5},
            {"id": "2", "userName": {"x": 1}, "emails": ["x", {"value": 7}]},
        ],
        2,
    ),
    "junk resources": _users(["junk", 3, None, {"no": "id"}, {"id": "1", "userName": "ok@org-a.test"}], 5),
}


@pytest.mark.parametrize("listing", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_scim_servers_odd_listing_does_not_break_the_import_page(admin_client, application, listing):
    server = RecordingServer(body=listing)
    integration = IntegrationFactory(
        application=application, base_url=f"{server.url}/scim/v2", token=TOKEN, status=IntegrationStatus.ACTIVE
    )
    try:
        page = admin_client.get(reverse("admin:provisioning_integration_import", args=[integration.pk]))
        assert page.status_code == 200
        assert "ok@org-a.test" in page.content.decode()
        response = admin_client.post(
            reverse("admin:provisioning_integration_import", args=[integration.pk]), {"remote_id": ["1", "2"]}
        )
        assert response.status_code == 302
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"detail": "internal-secret-44", "Resources": "not a list"}),
        (200, ["internal-secret-45"]),
        (500, {"message": "internal-secret-46"}),
        (404, {"detail": "internal-secret-47"}),
        (200, b"<html>internal-secret-48</html>"),
    ],
)
def test_the_import_page_never_shows_the_body_of_a_non_scim_answer(admin_client, application, status, body):
    server = RecordingServer(status=status, body=body, headers={"Content-Type": "application/json"})
    integration = IntegrationFactory(
        application=application, base_url=f"{server.url}/scim/v2", token=TOKEN, status=IntegrationStatus.ACTIVE
    )
    try:
        page = admin_client.get(reverse("admin:provisioning_integration_import", args=[integration.pk]))
    finally:
        server.stop()
    assert page.status_code == 200
    text = page.content.decode()
    assert "internal-secret" not in text
    assert "Lanyard could not reach the app at 127.0.0.1; check the URL." in text


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "http://10.0.0.1/scim/v2", "https://user:pw@scim.example.test/v2", "https://x.test:99999/"],
)
def test_every_way_of_storing_a_scim_url_refuses_a_bad_one_with_a_sentence(settings, admin_client, application, url):
    settings.ALLOW_INSECURE_URLS = False
    response = admin_client.post(
        reverse("admin:provisioning_integration_add"),
        {"application": application.pk, "base_url": url, "token": TOKEN, "rate_limit": 50},
    )
    assert response.status_code == 200 and not Integration.objects.exists()
    with pytest.raises(ValidationError) as caught:
        services.integration_configure(application=application, base_url=url, token=TOKEN)
    assert "The SCIM base URL" in " ".join(caught.value.messages)
    integration = IntegrationFactory(application=application, base_url="https://scim.example.test/v2", token=TOKEN)
    with pytest.raises(ValidationError):
        services.integration_update_url(integration=integration, base_url=url, token=TOKEN)
    integration.refresh_from_db()
    assert integration.base_url == "https://scim.example.test/v2"
