"""Export: CSV and JSON Lines of any query, streamed in keyset chunks."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights import selectors
from insights.models import Service
from tests.insights.conftest import API, event

pytestmark = pytest.mark.django_db
EXPORT = API + "/export"


def body_of(response) -> str:
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_jsonl_export_streams_every_matching_event_in_small_chunks(api, org, other_org, start, monkeypatch):
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 3)
    made = [event(org, ago=timedelta(minutes=i), service=Service.SCIM) for i in range(10)]
    event(org, service=Service.SSO)
    event(other_org, service=Service.SCIM)
    response = api("/export", start=start, service="scim", format="jsonl")
    assert response["Content-Type"].startswith("application/x-ndjson")
    with CaptureQueriesContext(connection) as queries:
        lines = body_of(response).splitlines()
    assert [json.loads(line)["id"] for line in lines] == [e.pk for e in made]
    assert json.loads(lines[0])["initiated_by"] == {"type": "", "id": "", "email": ""}
    selects = [q["sql"] for q in queries if "insights_event" in q["sql"]]
    assert len(selects) == 4  # 3 + 3 + 3 + 1 rows: never the whole result at once
    assert all("LIMIT 3" in sql for sql in selects)


def test_csv_export_has_a_header_and_one_row_per_event(api, org, start):
    first = event(org, ago=timedelta(minutes=2), message="plain", changes=[{"field": "title", "from": None, "to": "x"}])
    second = event(org, ago=timedelta(minutes=1), message='=HYPERLINK("http://evil")', resource_name="+1 rows")
    response = api("/export", start=start, format="csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body_of(response))))
    assert [int(row["id"]) for row in rows] == [second.pk, first.pk]
    assert list(rows[0]) == list(selectors.EVENT_FIELDS)
    # a spreadsheet must not run text from the log as a formula
    assert rows[0]["message"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["resource_name"] == "'+1 rows"
    assert json.loads(rows[1]["changes"]) == [{"field": "title", "from": None, "to": "x"}]


def test_export_checks_its_parameters(api):
    response = api("/export", start="2026-01-01", format="xml")
    assert response.status_code == 400
    assert response.json()["parameter"] == "format"
    assert api("/export", format="csv").json()["parameter"] == "start"


def test_export_needs_authentication(client, start):
    assert client.get(EXPORT, {"start": start, "format": "csv"}).status_code == 401
