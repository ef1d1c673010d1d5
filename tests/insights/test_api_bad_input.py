"""Bad query parameters get a 400 that names the parameter in a sentence, never a 500 (issue 10, finding 8)."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.http import QueryDict

from insights import selectors
from insights.models import Event
from insights.selectors import Cursor, QueryError
from tests.insights.conftest import event

pytestmark = pytest.mark.django_db

COUNT = "/count"


def cursor_of(stamp: str, pk: int = 5) -> str:
    return base64.urlsafe_b64encode(json.dumps([stamp, pk]).encode()).decode().rstrip("=")


def refused(response, parameter: str | None = None) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"].endswith(".") and body["error"][0].isalpha()
    if parameter is not None:
        assert body["parameter"] == parameter
    return body["error"]


@pytest.mark.parametrize("suffix", ["", COUNT])
@pytest.mark.parametrize(
    "params",
    [
        # offsets that carry a date past year 9999 or before year 1 (PostgreSQL: "time zone displacement out
        # of range"; SQLite: Python's OverflowError converting to UTC)
        {"start": "9999-12-31T23:59:59-23:00"},
        {"start": "0001-01-01T00:00:00+23:00"},
        {"start": "2020-01-01", "end": "9999-12-31T23:59:59.999999-23:00"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_clamped_not_a_500(api, org, suffix, params):
    inside = event(org, ago=timedelta(days=1))
    response = api(suffix, **params)
    assert response.status_code == 200, response.content
    if "end" in params:  # the end is held at the last moment, so it still covers every event
        assert (response.json().get("count") or len(response.json()["events"])) == 1
    assert Event.objects.filter(pk=inside.pk).exists()


def test_a_start_past_the_end_of_the_calendar_is_a_sentence(api):
    refused(api(start="9999-12-31T23:59:59-23:00", end="9999-12-31T23:59:59-22:00"), "end")


@pytest.mark.parametrize("limit", ["²", "١٢", "9" * 5000, "+5", " 5", "0x10", "5.0", "1001", "0"])
def test_limit_is_ascii_digits_within_range(api, start, limit):
    assert "limit must be a whole number from 1 to 1000" in refused(api(start=start, limit=limit), "limit")


def test_limit_of_ascii_digits_is_read(api, org, start):
    for _ in range(3):
        event(org)
    assert len(api(start=start, limit="0002").json()["events"]) == 2


@pytest.mark.parametrize(
    "stamp",
    ["0001-01-01T00:00:00+23:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
)
def test_a_cursor_at_the_ends_of_the_calendar_is_refused_with_a_sentence(api, start, stamp):
    refused(api(start=start, cursor=cursor_of(stamp)), "cursor")


@pytest.mark.parametrize(
    "value",
    [
        cursor_of("2026-01-01T00:00:00+00:00", 2**70),  # past the bigint id column
        cursor_of("2026-01-01T00:00:00+00:00", True),
        base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),  # nesting deep enough to overflow json's stack
        "A" * 100_000,
    ],
)
def test_a_forged_cursor_is_refused_with_a_sentence(api, start, value):
    refused(api(start=start, cursor=value), "cursor")


def test_a_cursor_from_year_one_in_utc_is_still_read(api, start):
    response = api(start=start, cursor=cursor_of("0001-01-01T00:00:00+00:00"))
    assert response.status_code == 200 and response.json()["events"] == []


@pytest.mark.parametrize("suffix", ["", COUNT])
@pytest.mark.parametrize("name", ["q", "initiator", "resource_name", "event_type"])
@pytest.mark.parametrize("value", ["a\x00b", "x@\x00.example"])
def test_a_nul_in_a_text_parameter_is_a_400_not_a_postgresql_error(api, start, suffix, name, value):
    params = {"start": start, name: value}
    if name == "resource_name":
        params["resource_type"] = "user"
    assert "NUL" in refused(api(suffix, **params))


@pytest.mark.parametrize("name", ["q", "initiator", "resource_id", "start"])
def test_the_query_parser_itself_refuses_a_nul(name):
    """Every caller of the selectors is covered, not only requests that went through the middleware."""
    params = QueryDict(mutable=True)
    params.update({"start": "2026-01-01", "resource_type": "user", name: "a\x00b"})
    with pytest.raises(QueryError) as excinfo:
        selectors.event_query_parse(params=params)
    assert excinfo.value.parameter == name and "NUL" in excinfo.value.message


def test_moments_are_kept_in_utc_within_the_calendar():
    early = selectors.event_query_parse(params=QueryDict("start=0001-01-01T00:00:00%2B23:00")).start
    assert early == datetime.min.replace(tzinfo=UTC)
    late = selectors.event_query_parse(params=QueryDict("start=2026-01-01T10:00:00%2B02:00")).start
    assert late == datetime(2026, 1, 1, 8, tzinfo=UTC) and late.tzinfo is UTC


def test_cursor_round_trip_still_works():
    cursor = Cursor(timestamp=datetime(2026, 1, 1, tzinfo=UTC), id=42)
    assert Cursor.decode(cursor.encode()) == cursor
