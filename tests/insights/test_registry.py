"""Each app declares the event types it records (`<app>/events.py`); the log refuses, lists and documents from that."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse

from insights import registry
from insights.models import Event, Service
from insights.services import record
from tests.insights.conftest import API, event

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("config", "core", "directory", "insights", "provisioning", "ssoapps")
# A type passed to record() or to a module's own _record()/_event() helper, or assigned to event_type
# (also through `"a" if … else "b"`, a permission Rule's type, and provisioning's event= argument).
LITERAL = re.compile(
    r"""(?:\b(?:_event|_record|record)\(\s*"([a-z][a-z_]+)"   # helper("type", …)
    |\bevent_type\s*=\s*("[a-z_]+"(?:\s+if\s[^\n]+?\selse\s+"[a-z_]+")?)  # event_type = "a" [if … else "b"]
    |\bevent="([a-z][a-z_]+)"                                  # provisioning: self._update(…, event="…")
    |\bRule\([^)]*?"([a-z]+_[a-z_]+)",\s*(?:"|None))          # the permission matrix's refusal type
    """,
    re.VERBOSE,
)


def _literal_types() -> dict[str, str]:
    found = {}
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for match in LITERAL.finditer(path.read_text()):
                for group in filter(None, match.groups()):
                    for name in re.findall(r'"([a-z][a-z_]+)"', group) if '"' in group else [group]:
                        found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_type_written_in_the_code_is_declared_by_an_app():
    """The static half: a type in a code path no test reaches is still caught."""
    found = _literal_types()
    assert {"request_refused", "user_import_row", "mfa_remove", "user_deprovision", "sso_auth"} <= set(found)
    undeclared = {name: path for name, path in found.items() if registry.event_type_owner(name) is None}
    assert not undeclared, f"declare these in the events.py of the app that records them: {undeclared}"


def test_record_refuses_an_undeclared_type_in_tests(org):
    """The runtime half (EVENT_TYPES_STRICT is on in tests and DEBUG): recording a new type fails loudly."""
    with pytest.raises(registry.UndeclaredEventType, match="events.py"):
        record(event_type="user_teleport", service=Service.DIRECTORY, organization=org)
    assert not Event.objects.filter(event_type="user_teleport").exists()


def test_production_still_writes_an_undeclared_type(org, settings):
    """An audit event is never lost because a declaration is missing."""
    settings.EVENT_TYPES_STRICT = False
    record(event_type="user_teleport", service=Service.DIRECTORY, organization=org)
    assert Event.objects.filter(event_type="user_teleport").exists()


def test_each_app_declares_its_own_types():
    owners = {
        "user_import_row": "directory",
        "application_create": "ssoapps",
        "mfa_remove": "portal",
        "user_create_provision": "provisioning",
        "outbound_failure": "insights",
        "request_refused": "insights",
    }
    assert {name: registry.event_type_owner(name) for name in owners} == owners
    for label in ("directory", "ssoapps", "portal", "provisioning", "insights"):
        module = __import__(f"{apps.get_app_config(label).name}.events", fromlist=["EVENT_TYPES"])
        assert module.EVENT_TYPES, label
        assert all(description.strip() for description in module.EVENT_TYPES.values()), label


def test_a_type_claimed_by_two_apps_is_refused():
    with pytest.raises(ValueError, match="declared by both directory and ssoapps"):
        registry.event_types_register(app_label="ssoapps", types={"user_create": "Someone else's."})
    assert registry.event_type_owner("user_create") == "directory"


def test_the_admin_filter_lists_every_declared_type(admin_client, org):
    """The old fixed list had drifted: request_refused, user_import_row, mfa_remove… were recorded but not listed."""
    event(org, event_type="user_update")
    page = admin_client.get(reverse("admin:insights_event_changelist")).content.decode()
    for name in ("request_refused", "user_import_row", "mfa_remove", "portal_redirect_refused", "signing_key_promote"):
        assert f"?event_type={name}" in page


def test_the_api_documents_the_types_and_refuses_an_unknown_one(client, api_key, start):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_key[1]}"}
    listed = client.get("/api/insights/event-types", **auth).json()["event_types"]
    by_name = {row["event_type"]: row for row in listed}
    assert by_name["user_import_row"]["app"] == "directory"
    assert by_name["sso_auth"]["description"]
    assert set(by_name) == set(registry.event_types())
    assert client.get("/api/insights/event-types").status_code == 401

    response = client.get(API, {"start": start, "event_type": "user_creat"}, **auth)
    assert response.status_code == 400
    assert response.json()["parameter"] == "event_type"
    assert "/api/insights/event-types" in response.json()["error"]
    assert client.get(API, {"start": start, "event_type": "user_create"}, **auth).status_code == 200
