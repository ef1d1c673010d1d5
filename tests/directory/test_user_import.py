"""CSV import: every row gets an outcome and a reason; a bad row never stops or half-writes."""

import pytest
from django.core.exceptions import ValidationError

from directory import user_import
from directory.models import User, UserState
from directory.user_import import users_import_csv
from insights.models import Event
from tests.factories import UserFactory, UserGroupFactory

pytestmark = pytest.mark.django_db


def run(org, text, actor=None):
    return users_import_csv(organization=org, data=text.encode(), actor=actor)


def test_rows_are_created_updated_or_refused_each_with_a_reason(org, other_org):
    UserGroupFactory(organization=org, name="Sales")
    UserFactory(organization=org, email="existing@example.test", department="Old")
    UserFactory(organization=other_org, email="taken@example.test")
    report = run(
        org,
        "email,first_name,department,groups,state\n"
        "new@example.test,New,Sales,Sales,active\n"
        "existing@example.test,,New dept,,\n"
        "taken@example.test,Thief,,,\n"
        ",Nobody,,,\n"
        "ghost@example.test,Ghost,,Nonexistent,\n"
        "weird@example.test,Weird,,,retired\n",
    )
    outcomes = [(r.line, r.email, r.outcome) for r in report]
    assert outcomes == [
        (2, "new@example.test", "created"),
        (3, "existing@example.test", "updated"),
        (4, "taken@example.test", "refused"),
        (5, "", "refused"),
        (6, "ghost@example.test", "refused"),
        (7, "weird@example.test", "refused"),
    ]
    reasons = {r.line: r.message for r in report}
    assert reasons[4] == user_import.EMAIL_UNUSABLE  # no hint that, or where, the address has an account
    assert "empty" in reasons[5]
    assert "Nonexistent" in reasons[6] and "Create them first" in reasons[6]
    assert "retired" in reasons[7]
    assert User.objects.get(email="new@example.test").user_groups.get().name == "Sales"
    assert User.objects.get(email="existing@example.test").department == "New dept"
    assert User.objects.get(email="taken@example.test").organization == other_org
    assert not User.objects.filter(email__in=["ghost@example.test", "weird@example.test"]).exists()
    assert Event.objects.filter(event_type="user_import_row", success=False, organization=org).count() == 4
    summary = Event.objects.get(event_type="user_import")
    assert summary.message == "1 created, 1 updated, 0 unchanged, 4 refused"


def test_a_refused_row_writes_nothing_at_all(org):
    """The group cell is checked before anything is written, and the row is one transaction."""
    UserGroupFactory(organization=org, name="Sales")
    report = run(org, "email,groups\nhalf@example.test,Sales;Missing\n")
    assert report[0].outcome == "refused"
    assert not User.objects.filter(email="half@example.test").exists()
    assert not Event.objects.filter(event_type__in=["user_create", "group_member_add"]).exists()


def test_importing_the_same_file_twice_changes_nothing(org):
    text = "email,first_name,state\nrepeat@example.test,Rae,staged\n"
    assert run(org, text)[0].outcome == "created"
    assert run(org, text)[0].outcome == "unchanged"
    assert User.objects.get(email="repeat@example.test").state == UserState.STAGED


def test_duplicate_email_within_the_file_is_an_update_not_a_crash(org):
    report = run(org, "email,first_name\ntwin@example.test,One\nTWIN@example.test,Two\n")
    assert [r.outcome for r in report] == ["created", "updated"]
    assert User.objects.get(email="twin@example.test").first_name == "Two"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"first_name,last_name\nA,B\n", "no “email” column"),
        (b"email,salary\na@example.test,1\n", "Unknown column(s): salary"),
        ("email\nä@example.test\n".encode("latin-1"), "not UTF-8"),
        (b"email\n" + b"x" * (6 * 1024 * 1024), "larger than 5 MB"),
    ],
)
def test_file_level_problems_are_sentences(org, data, message):
    with pytest.raises(ValidationError) as excinfo:
        users_import_csv(organization=org, data=data)
    assert message in " ".join(excinfo.value.messages)
    assert not User.objects.filter(organization=org).exists()


def test_extra_cells_are_refused_not_dropped(org):
    report = run(org, "email,first_name\nextra@example.test,Ex,stray\n")
    assert report[0].outcome == "refused" and "more cells" in report[0].message
