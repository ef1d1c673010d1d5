"""Hostile CSV files: checked whole before any write, refused with a sentence, always summarised (issue 10)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from directory import user_import
from directory.models import User
from directory.user_import import users_import_csv
from insights.models import Event
from tests.factories import UserFactory, UserGroupFactory

pytestmark = pytest.mark.django_db


def refused_file(org, data) -> str:
    with pytest.raises(ValidationError) as excinfo:
        users_import_csv(organization=org, data=data)
    return " ".join(excinfo.value.messages)


def summary():
    return Event.objects.get(event_type="user_import")


def test_a_cell_over_the_csv_field_limit_refuses_the_file_with_a_sentence_before_any_write(org):
    data = b"email,first_name\nfirst@example.test,Ok\nsecond@example.test," + b"x" * 140_000 + b"\n"
    sentence = refused_file(org, data)
    assert sentence.startswith("Line 3 has a cell longer than 128 KB") and "Nothing was imported" in sentence
    assert not User.objects.exists()
    assert summary().success is False and summary().message.startswith("File refused: Line 3")


def test_the_admin_shows_the_sentence_for_an_oversized_cell(admin_client, tenant_admin):
    data = b"email,first_name\nbig@example.test," + b"x" * 140_000 + b"\n"
    upload = SimpleUploadedFile("users.csv", data, content_type="text/csv")
    response = admin_client.post(reverse("admin:directory_user_import"), {"file": upload})
    assert response.status_code == 200
    assert "has a cell longer than 128 KB" in response.content.decode()
    assert not User.objects.filter(email="big@example.test").exists()


def test_a_nul_in_a_cell_refuses_that_row_only(org):
    report = users_import_csv(
        organization=org,
        data=b"email,first_name\nbefore@example.test,A\nnul@example.test,Ev\x00il\nafter@example.test,C\n",
    )
    assert [r.outcome for r in report] == ["created", "refused", "created"]
    assert "“first_name” cell contains a NUL" in report[1].message
    assert not User.objects.filter(email="nul@example.test").exists()
    assert User.objects.filter(email__in=["before@example.test", "after@example.test"]).count() == 2
    assert summary().message == "2 created, 0 updated, 0 unchanged, 1 refused"


def test_a_nul_in_the_email_cell_is_reported_without_it(org):
    report = users_import_csv(organization=org, data=b"email\nn\x00ul@example.test\n")
    assert report[0].outcome == "refused" and report[0].email == "n\ufffdul@example.test"
    assert Event.objects.get(event_type="user_import_row").resource_name == "n\ufffdul@example.test"


def test_a_nul_in_the_header_refuses_the_file(org):
    assert "first line contains a NUL" in refused_file(org, b"email,first\x00name\na@example.test,A\n")


def test_over_the_row_cap_nothing_is_written_and_the_refusal_is_summarised(org, monkeypatch):
    monkeypatch.setattr(user_import, "MAX_ROWS", 3)
    data = "email\n" + "".join(f"user{i}@example.test\n" for i in range(5))
    sentence = refused_file(org, data.encode())
    assert "more than 3 rows" in sentence and "Nothing was imported" in sentence
    assert not User.objects.exists()
    assert not Event.objects.filter(event_type="user_create").exists()
    assert summary().success is False and "more than 3 rows" in summary().message


def test_exactly_the_row_cap_is_imported(org, monkeypatch):
    monkeypatch.setattr(user_import, "MAX_ROWS", 3)
    data = "email\n" + "".join(f"user{i}@example.test\n" for i in range(3))
    assert [r.outcome for r in users_import_csv(organization=org, data=data.encode())] == ["created"] * 3


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (b"email,email\na@example.test,b@example.test\n", "appear more than once"),
        (b"", "no “email” column"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_every_file_level_refusal_is_summarised(org, data, sentence):
    assert sentence in refused_file(org, data)
    assert summary().success is False and sentence in summary().message


def test_unknown_columns_are_named_briefly(org):
    header = ",".join(["email"] + [f"{'c' * 1000}{i}" for i in range(10)])
    sentence = refused_file(org, f"{header}\na@example.test\n".encode())
    assert sentence.startswith("Unknown column(s): ") and len(sentence) < 600


def test_a_file_is_read_no_further_than_the_size_cap(org):
    upload = io.BytesIO(b"email\n" + b"x" * (user_import.MAX_BYTES + 10))
    assert "larger than 5 MB" in refused_file(org, upload)
    assert upload.tell() == user_import.MAX_BYTES + 1


def test_too_many_groups_in_one_row_is_a_sentence(org):
    cap = user_import.MAX_GROUPS_PER_ROW
    UserGroupFactory(organization=org, name="g0")
    cell = ";".join(f"g{i}" for i in range(cap + 1))
    report = users_import_csv(organization=org, data=f"email,groups\nmany@example.test,{cell}\n".encode())
    assert report[0].outcome == "refused" and f"at most {cap} groups" in report[0].message


# --- an address held by another organization (issue 10, finding 13) ------------------------------------


def test_an_address_of_another_organization_is_refused_without_saying_it_exists(org, other_org, tenant_admin):
    unusable = user_import.EMAIL_UNUSABLE
    holder = UserFactory(organization=other_org, email="ceo@rival.test")
    report = users_import_csv(organization=org, data=b"email\nCEO@rival.test\n", actor=tenant_admin)
    assert report[0].outcome == "refused" and report[0].message == unusable
    assert "in use" not in unusable and "exist" not in unusable and "taken" not in unusable
    tenant_events = Event.objects.filter(organization=org)
    assert not any("org-b" in e.message or "Org B" in e.message for e in tenant_events)
    row_event = tenant_events.get(event_type="user_import_row")
    assert row_event.message == f"Line 2 refused: {unusable}" and row_event.resource_id == ""
    operator_event = Event.objects.get(event_type="user_import_row", organization=None)
    assert operator_event.resource_id == str(holder.pk)
    assert "org-a" in operator_event.message and "org-b" in operator_event.message
    assert operator_event.initiator_email == tenant_admin.email
    holder.refresh_from_db()
    assert holder.organization == other_org
