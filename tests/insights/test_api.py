"""The query API: filters, order, cursor pages, count, errors naming the parameter, and tenant isolation."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from insights.models import Service
from insights.services import api_key_revoke
from tests.factories import TenantAdminFactory, UserFactory
from tests.insights.conftest import API, event
from tests.insights.factories import api_key_in

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["events"]]


def test_events_come_newest_first_with_the_documented_fields(api, org, start):
    older = event(org, ago=timedelta(hours=2), message="older", changes=[{"field": "title", "from": "a", "to": "b"}])
    newer = event(
        org,
        ago=timedelta(minutes=5),
        initiator_type="admin",
        initiator_id="7",
        initiator_email="ann@org-a.test",
        resource_id="42",
        client_ip="10.0.0.1",
        user_agent="Firefox",
        correlation_id="c-1",
    )
    body = api(start=start).json()
    assert [row["id"] for row in body["events"]] == [newer.pk, older.pk]
    assert body["next_cursor"] is None
    first = body["events"][0]
    assert set(first) == {
        "id",
        "timestamp",
        "event_type",
        "service",
        "success",
        "initiated_by",
        "resource",
        "client_ip",
        "user_agent",
        "message",
        "changes",
        "correlation_id",
    }
    assert first["initiated_by"] == {"type": "admin", "id": "7", "email": "ann@org-a.test"}
    assert first["resource"] == {"type": "user", "id": "42", "name": newer.resource_name}
    assert (first["client_ip"], first["user_agent"], first["correlation_id"]) == ("10.0.0.1", "Firefox", "c-1")
    assert body["events"][1]["changes"] == [{"field": "title", "from": "a", "to": "b"}]


def test_time_range_bounds_the_results(api, org, now):
    event(org, ago=timedelta(days=3))
    inside = event(org, ago=timedelta(days=2))
    event(org, ago=timedelta(hours=1))
    window = {"start": (now - timedelta(days=2, hours=1)).isoformat(), "end": (now - timedelta(days=1)).isoformat()}
    assert ids(api(**window)) == [inside.pk]


def test_dates_without_time_or_offset_are_read_as_utc_midnight(api, org):
    today = timezone.now().date()
    recent = event(org, ago=timedelta(seconds=5))
    assert recent.pk in ids(api(start=today.isoformat()))
    assert ids(api(start=(today + timedelta(days=1)).isoformat())) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"service": "sso"}, ["sso_fail", "sso_ok"]),
        ({"service": "sso,scim"}, ["scim", "sso_fail", "sso_ok"]),
        ({"event_type": "sso_auth"}, ["sso_fail", "sso_ok"]),
        ({"event_type": ["user_create_provision", "user_update"]}, ["scim", "bob_update"]),
        ({"event_type": "user_create_provision,user_update"}, ["scim", "bob_update"]),
        ({"success": "false"}, ["scim", "sso_fail"]),
        ({"success": "true", "service": "sso"}, ["sso_ok"]),
        ({"initiator": "bob@org-a.test"}, ["bob_update"]),
        ({"initiator": "BOB@org-a.test"}, ["bob_update"]),
        ({"initiator": "99"}, ["bob_update"]),
        ({"resource_type": "application"}, ["sso_fail", "sso_ok"]),
        ({"resource_type": "user", "resource_id": "5"}, ["scim"]),
        ({"resource_name": "ClickUp"}, ["sso_fail", "sso_ok"]),
        ({"q": "409"}, ["scim"]),
        ({"q": "clickup"}, ["scim", "sso_fail", "sso_ok"]),
        ({"q": "bob@"}, ["bob_update"]),
    ],
)
def test_filters_narrow_the_results(api, org, start, params, expected):
    rows = {
        "scim": event(
            org,
            ago=timedelta(minutes=1),
            event_type="user_create_provision",
            service=Service.SCIM,
            success=False,
            resource_type="user",
            resource_id="5",
            resource_name="carol@org-a.test",
            message="409 from ClickUp",
        ),
        "sso_fail": event(
            org,
            ago=timedelta(minutes=2),
            event_type="sso_auth",
            service=Service.SSO,
            success=False,
            resource_type="application",
            resource_id="3",
            resource_name="ClickUp",
        ),
        "sso_ok": event(
            org,
            ago=timedelta(minutes=3),
            event_type="sso_auth",
            service=Service.SSO,
            resource_type="application",
            resource_id="3",
            resource_name="ClickUp",
        ),
        "bob_update": event(
            org, ago=timedelta(minutes=4), event_type="user_update", initiator_id="99", initiator_email="bob@org-a.test"
        ),
    }
    names = {row.pk: name for name, row in rows.items()}
    assert [names[pk] for pk in ids(api(start=start, **params))] == expected


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-02-30"}, "start"),
        ({"start": "2026-01-02", "end": "2026-01-01"}, "end"),
        ({"start": "2026-01-01", "end": "soon"}, "end"),
        ({"start": "2026-01-01", "service": "email"}, "service"),
        ({"start": "2026-01-01", "success": "maybe"}, "success"),
        ({"start": "2026-01-01", "limit": "0"}, "limit"),
        ({"start": "2026-01-01", "limit": "5000"}, "limit"),
        ({"start": "2026-01-01", "limit": "ten"}, "limit"),
        ({"start": "2026-01-01", "cursor": "not-a-cursor"}, "cursor"),
        ({"start": "2026-01-01", "resource_id": "5"}, "resource_type"),
        ({"start": "2026-01-01", "q": "x" * 201}, "q"),
        ({"start": "2026-01-01", "event_type": "x" * 65}, "event_type"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api, params, parameter):
    response = api(**params)
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == parameter
    assert parameter in body["error"]


def test_count_matches_the_query(api, org, other_org, start):
    for _ in range(3):
        event(org, success=False)
    event(org)
    event(other_org, success=False)
    assert api("/count", start=start).json() == {"count": 4}
    assert api("/count", start=start, success="false").json() == {"count": 3}
    assert api("/count").status_code == 400


def test_cursor_pages_stay_correct_while_new_events_arrive(api, org, start):
    originals = [event(org, ago=timedelta(minutes=10 - i)) for i in range(7)]
    expected = [e.pk for e in reversed(originals)]
    same_moment = originals[3].timestamp  # a tie on timestamp is broken by id
    tied = event(org, ago=timedelta(0))
    tied.timestamp = same_moment
    tied.save()
    expected.insert(expected.index(originals[3].pk), tied.pk)

    seen, cursor = [], None
    while True:
        params = {"start": start, "limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api(**params).json()
        seen += [row["id"] for row in body["events"]]
        event(org, ago=timedelta(0))  # a new event lands between every two pages
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_another_organizations_events_are_never_visible(client, org, other_org, start):
    ours = event(org)
    theirs = event(other_org, resource_name="secret thing")
    _, their_key = api_key_in(other_org)
    response = client.get(API, {"start": start}, HTTP_AUTHORIZATION=f"Bearer {their_key}")
    assert ids(response) == [theirs.pk]
    response = client.get(API, {"start": start, "q": ours.resource_name}, HTTP_AUTHORIZATION=f"Bearer {their_key}")
    assert ids(response) == []
    count = client.get(API + "/count", {"start": start}, HTTP_AUTHORIZATION=f"Bearer {their_key}").json()
    assert count == {"count": 1}


def test_a_tenant_admin_session_reads_its_own_organization(admin_client, org, other_org, start):
    ours = event(org)
    event(other_org)
    assert ids(admin_client.get(API, {"start": start})) == [ours.pk]


def test_platform_events_without_organization_are_not_served(api, org, start):
    event(None)
    assert ids(api(start=start)) == []


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Basic dXNlcjpwYXNz", "Bearer lyk_unknown", "Bearer not-even-a-key"],
)
def test_requests_without_a_valid_key_or_session_get_401(client, org, start, authorization):
    event(org)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get(API, {"start": start}, **headers)
    assert response.status_code == 401
    assert "error" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_stops_working(client, org, start, api_key):
    key, secret = api_key
    assert client.get(API, {"start": start}, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    api_key_revoke(api_key=key)
    assert client.get(API, {"start": start}, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_using_a_key_sets_its_last_used_time(api, api_key, start):
    key, _ = api_key
    assert key.last_used_at is None
    api(start=start)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_sessions_of_non_admins_and_admins_without_the_permission_get_403(client, org, start):
    client.force_login(UserFactory(organization=org))
    assert client.get(API, {"start": start}).status_code == 403
    no_rights = Group.objects.create(name="no rights")
    client.force_login(TenantAdminFactory(organization=org, roles=[no_rights]))
    response = client.get(API, {"start": start})
    assert response.status_code == 403
    assert "role" in response.json()["error"]


def test_only_get_is_allowed(client, api_key, start):
    response = client.post(API + f"?start={start}", HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")
    assert response.status_code == 405


def test_query_count_does_not_grow_with_the_page(api, org, start):
    for _ in range(3):
        event(org)
    api(start=start)  # the key's last-used time is written once a minute, not on every call
    with CaptureQueriesContext(connection) as small:
        api(start=start, limit=2)
    for _ in range(30):
        event(org)
    with CaptureQueriesContext(connection) as large:
        assert len(ids(api(start=start, limit=25))) == 25
    assert len(small) == len(large) == 2  # the key lookup and the page
