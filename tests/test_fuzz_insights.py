"""Property-based tests of the insights query API: any parameters give a 200 or a 400 with a sentence.

The list, count and export endpoints, with an API key or an admin session; the time range, limit,
cursor, free text and every filter drawn from hostile values (the ends of the calendar, offsets past
a day, non-ASCII digits, NULs, huge numbers, forged cursors), plus arbitrary parameter names and raw
query strings. Reading never writes: the only row a request may add is the event of its own refusal.
"""

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from insights.models import Event, Service
from insights.selectors import Cursor
from tests.factories import EventFactory
from tests.fuzz import FUZZ, assert_answered, example_isolated
from tests.insights.factories import api_key_in

pytestmark = pytest.mark.django_db

API = "/api/insights/events"
ENDPOINTS = ("", "/count", "/export")
FILTERS = (
    "end",
    "limit",
    "cursor",
    "q",
    "initiator",
    "event_type",
    "service",
    "success",
    "resource_type",
    "resource_id",
    "resource_name",
    "format",
)

_offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)).map(
    lambda delta: timezone(timedelta(minutes=delta // timedelta(minutes=1)))
)
_moments = st.one_of(
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=st.one_of(st.none(), _offsets)).map(
        datetime.isoformat
    ),
    st.dates().map(str),
    st.sampled_from(["9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+23:00", "2026-02-30", "2026-01-01T25:00"]),
    st.text(max_size=30),
)


def _cursor(stamp, pk) -> str:
    return base64.urlsafe_b64encode(json.dumps([stamp, pk]).encode()).decode().rstrip("=")


_cursors = st.one_of(
    st.builds(_cursor, _moments, st.one_of(st.integers(min_value=-(2**80), max_value=2**80), st.booleans())),
    st.builds(_cursor, st.text(max_size=10), st.text(max_size=10)),
    st.binary(max_size=120).map(lambda data: base64.urlsafe_b64encode(data).decode()),
    st.text(max_size=60),
)
_numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
)
_texts = st.one_of(st.text(max_size=80), st.text(max_size=300), st.sampled_from(list(Service.values) + ["true", "0"]))
_values = {
    "end": _moments,
    "limit": _numbers,
    "cursor": _cursors,
    "success": st.one_of(st.sampled_from(["true", "false", "yes", "0", "TRUE"]), _texts),
    "format": st.one_of(st.sampled_from(["csv", "jsonl"]), _texts),
}
api_params = st.fixed_dictionaries(
    {"start": _moments},
    optional={name: _values.get(name, _texts) for name in FILTERS}
    | {"extra": st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=2)},
)


def _get(client: Client, path: str, params: dict, headers: dict):
    params = dict(params)
    extra = params.pop("extra", {})
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in {**extra, **params}.items())
    return client.get(path, QUERY_STRING=query, **headers)


@pytest.fixture
def callers(org, admin_client):
    """The same organization's events read with its API key, and with its Administrator's session."""
    now = datetime.now(UTC)
    for minutes in range(5):
        EventFactory(organization=org, timestamp=now - timedelta(minutes=minutes), message=f"event {minutes}")
    _, secret = api_key_in(org)
    return {"key": (Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}), "session": (admin_client, {})}


def _written() -> int:
    """Events other than the refusals the request hygiene middleware records: a query must add none."""
    return Event.objects.exclude(event_type="request_refused").count()


@FUZZ
@given(params=api_params, endpoint=st.sampled_from(ENDPOINTS), via=st.sampled_from(["key", "session"]))
@example(params={"start": "9999-12-31T23:59:59-23:00"}, endpoint="", via="key")
@example(params={"start": "0001-01-01T00:00:00+23:00"}, endpoint="/count", via="key")
@example(params={"start": "2020-01-01", "end": "9999-12-31T23:59:59.999999-23:00"}, endpoint="", via="session")
@example(params={"start": "2020-01-01", "limit": "²"}, endpoint="", via="key")
@example(params={"start": "2020-01-01", "limit": "9" * 5000}, endpoint="", via="key")
@example(params={"start": "2020-01-01", "cursor": _cursor("0001-01-01T00:00:00+23:00", 5)}, endpoint="", via="key")
@example(params={"start": "2020-01-01", "cursor": _cursor("0001-01-01T00:00:00+01:00", 5)}, endpoint="", via="key")
@example(params={"start": "2020-01-01", "q": "a\x00b"}, endpoint="/count", via="key")
@example(params={"start": "2020-01-01", "initiator": "a@\x00b"}, endpoint="", via="session")
@example(params={"start": "2020-01-01", "extra": {"\x00": "1"}}, endpoint="/export", via="key")
def test_the_query_api_answers_any_parameters_with_a_200_or_a_sentence(callers, params, endpoint, via):
    client, headers = callers[via]
    with example_isolated():
        before = _written()
        response = _get(client, API + endpoint, params, headers)
        if not assert_answered(response):
            assert response.status_code == 200
            if endpoint == "/export":
                b"".join(response.streaming_content)  # the whole stream is produced without an error
            elif endpoint == "":
                body = response.json()
                if body["next_cursor"]:
                    Cursor.decode(body["next_cursor"])  # a cursor the API hands out reads back
        assert _written() == before


@FUZZ
@given(raw=st.binary(max_size=300), endpoint=st.sampled_from(ENDPOINTS))
@example(raw=b"start=2020-01-01&q=%00", endpoint="")
@example(raw=b"start=2020-01-01&limit=%C2%B2", endpoint="")
@example(raw=b"start=\xff\xfe&end=\x00", endpoint="/count")
def test_a_raw_query_string_is_answered_with_a_200_or_a_sentence(callers, raw, endpoint):
    client, headers = callers["key"]
    with example_isolated():
        before = _written()
        response = client.get(API + endpoint, QUERY_STRING=raw.decode("latin-1"), **headers)
        assert_answered(response)
        if endpoint == "/export" and response.status_code == 200:
            b"".join(response.streaming_content)
        assert _written() == before
