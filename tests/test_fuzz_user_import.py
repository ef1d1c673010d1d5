"""Property-based tests of the CSV user import: any file is imported row by row or refused whole, with sentences.

Arbitrary bytes, and structured but hostile files (unknown and repeated columns, NULs, quotes and line
breaks in cells, cells past the csv module's 128 KB field limit, more rows than the cap, addresses of
another organization), through the service and through the admin page. A refused file writes no user
and no directory event; an imported one creates exactly the users its report says; every import ends
in one summary event; the tenant's own events never name the other organization.
"""

import csv
import html
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from directory import user_import
from directory.models import User
from directory.user_import import COLUMNS, users_import_csv
from insights.models import Event
from tests.factories import UserFactory, UserGroupFactory
from tests.fuzz import FUZZ, example_isolated, has_sentence

pytestmark = pytest.mark.django_db

ROW_CAP = 5  # the cap is lowered for these tests, so a generated file can pass it
TAKEN = "taken@org-b.test"  # held by a user of the other organization

_cells = st.one_of(
    st.emails().map(str.lower),
    st.sampled_from([TAKEN, "TAKEN@ORG-B.TEST", "existing@org-a.test", "", "active", "retired", "Sales", "Sales;Nope"]),
    st.text(max_size=40),
    st.text(alphabet=',"\r\n\x00;é ', max_size=12),
    st.integers(min_value=100, max_value=140_000).map(lambda n: "x" * n),  # column sizes and the field limit
)
_headers = st.lists(
    st.one_of(st.sampled_from(COLUMNS), st.sampled_from(["EMAIL", " email ", "salary", "", "e\x00mail"])),
    min_size=1,
    max_size=5,
).map(lambda names: names if "email" in names or len(names) > 4 else ["email", *names])


@st.composite
def csv_files(draw) -> bytes:
    """A CSV as a spreadsheet would write it, but with hostile columns, cells and row counts."""
    header = draw(_headers)
    rows = draw(st.lists(st.lists(_cells, min_size=len(header) - 1, max_size=len(header) + 1), max_size=ROW_CAP + 2))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    prefix = draw(st.sampled_from(["", "\ufeff"]))
    return (prefix + out.getvalue()).encode()


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def directory(org, other_org, monkeypatch):
    """`org` with a user and a group, `other_org` holding TAKEN, and the row cap lowered to ROW_CAP."""
    monkeypatch.setattr(user_import, "MAX_ROWS", ROW_CAP)
    UserFactory(organization=org, email="existing@org-a.test", username="existing")
    UserGroupFactory(organization=org, name="Sales")
    holder = UserFactory(organization=other_org, email=TAKEN, username="taken")
    return org, holder


def _snapshot(org, holder) -> dict:
    holder.refresh_from_db()
    return {
        "users": User.objects.filter(organization=org).count(),
        "writes": Event.objects.filter(event_type__in=["user_create", "user_update", "group_member_add"]).count(),
        "summaries": Event.objects.filter(event_type="user_import").count(),
        "holder": (holder.organization_id, holder.first_name, holder.state, holder.email),
    }


def _check_import(org, holder, data: bytes) -> None:
    before = _snapshot(org, holder)
    try:
        report = users_import_csv(organization=org, data=data)
    except ValidationError as exc:
        sentence = " ".join(exc.messages)
        assert has_sentence(sentence), sentence
        after = _snapshot(org, holder)
        assert after == {**before, "summaries": before["summaries"] + 1}  # refused whole: nothing but the summary
        return
    for row in report:
        assert row.outcome in ("created", "updated", "unchanged", "refused")
        assert row.outcome != "refused" or has_sentence(row.message), row.message
    after = _snapshot(org, holder)
    assert after["users"] - before["users"] == sum(r.outcome == "created" for r in report)
    assert after["summaries"] == before["summaries"] + 1 and after["holder"] == before["holder"]
    tenant_events = Event.objects.filter(organization=org)
    assert not tenant_events.filter(message__icontains="org-b").exists()


@FUZZ
@given(data=csv_files())
@example(data=_csv("email,first_name", "first@org-a.test,Ok", "second@org-a.test," + "x" * 140_000))
@example(data=_csv("email,first_name", "nul@org-a.test,Ev\x00il", "fine@org-a.test,Fine"))
@example(data=_csv("email", *(f"user{i}@org-a.test" for i in range(ROW_CAP + 1))))
@example(data=_csv("email,first_name", f"{TAKEN},Thief", "TAKEN@org-b.test,Thief"))
@example(data=_csv("email,groups", "g@org-a.test," + ";".join(f"g{i}" for i in range(500))))
@example(data=_csv("email,email", "a@org-a.test,b@org-a.test"))
def test_a_structured_but_hostile_csv_is_imported_by_row_or_refused_whole(directory, data):
    org, holder = directory
    with example_isolated():
        _check_import(org, holder, data)


@FUZZ
@given(data=st.one_of(st.binary(max_size=600), st.binary(max_size=600).map(lambda tail: b"email,first_name\n" + tail)))
@example(data=b"email\n\x00@org-a.test\n")
@example(data=b"\xef\xbb\xbfemail\r\na@org-a.test\rb@org-a.test\r\n")
@example(data=b'email\n"unterminated@org-a.test\n')
def test_arbitrary_bytes_are_imported_by_row_or_refused_whole(directory, data):
    org, holder = directory
    with example_isolated():
        _check_import(org, holder, data)


_ERRORS = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)


@settings(FUZZ, max_examples=40)  # a page render per example
@given(data=st.one_of(csv_files(), st.binary(max_size=300)))
@example(data=_csv("email,first_name", "big@org-a.test," + "x" * 140_000))
@example(data=_csv("email", *(f"user{i}@org-a.test" for i in range(ROW_CAP + 1))))
def test_the_admin_import_page_answers_any_file_with_a_report_or_a_sentence(directory, admin_client, data):
    org, holder = directory
    with example_isolated():
        before = _snapshot(org, holder)
        upload = SimpleUploadedFile("users.csv", data, content_type="text/csv")
        response = admin_client.post(reverse("admin:directory_user_import"), {"file": upload})
        assert response.status_code == 200
        body = response.content.decode()
        if 'id="import-report"' not in body:
            errors = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(_ERRORS.findall(body))))
            assert has_sentence(errors), body[:2000]
            # an empty upload is refused by the form itself, before an import (and its summary) starts
            assert _snapshot(org, holder) == {**before, "summaries": before["summaries"] + bool(data)}
