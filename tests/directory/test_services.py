"""Directory services: each write does what it says, records an event, and refuses what crosses tenants."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from directory import services, signals
from directory.models import User, UserState
from insights.models import Event
from tests.factories import UserFactory, UserGroupFactory

pytestmark = pytest.mark.django_db


def events(event_type):
    return list(Event.objects.filter(event_type=event_type))


def test_user_create_records_event_with_initiator(org, tenant_admin):
    user = services.user_create(organization=org, email="New.Person@Example.test", first_name="New", actor=tenant_admin)
    assert user.email == "new.person@example.test"
    assert user.username == "new.person"
    assert not user.has_usable_password()
    (event,) = events("user_create")
    assert event.organization == org
    assert event.resource == {"type": "user", "id": str(user.pk), "name": "new.person@example.test"}
    assert event.initiated_by == {"type": "admin", "id": str(tenant_admin.pk), "email": tenant_admin.email}


def test_email_is_unique_across_organizations_case_insensitively(org, other_org):
    UserFactory(organization=org, email="dup@example.test")
    with pytest.raises(ValidationError, match="cannot be used for a user of this organization"):
        services.user_create(organization=other_org, email="DUP@example.test")
    with pytest.raises(ValidationError, match="Another user of this organization already has"):
        services.user_create(organization=org, email="DUP@example.test", username="dup2")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(organization=other_org, email="Dup@Example.test", username="x")


@pytest.mark.parametrize(
    "fields",
    [{"first_name": "Ev\x00il"}, {"email": "n\x00ul@example.test"}, {"username": "n\x00ul"}, {"description": "\x00"}],
)
def test_a_nul_in_any_attribute_is_a_sentence_not_a_database_error(org, fields):
    """What reaches the directory from a SCIM server, a file or an API is checked where it is stored (issue 10)."""
    values = {"email": "ok@example.test", **fields}
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(organization=org, **values)
    messages = excinfo.value.message_dict[next(iter(fields))]
    assert any("NUL" in m or "valid email" in m for m in messages), messages
    assert not User.objects.filter(organization=org).exists()


def test_a_nul_in_a_group_name_is_a_sentence(org):
    with pytest.raises(ValidationError, match="NUL"):
        services.group_create(organization=org, name="Sa\x00les")


def test_username_unique_within_organization_only(org, other_org):
    UserFactory(organization=org, username="sam")
    UserFactory(organization=other_org, username="sam")  # fine in another tenant
    with pytest.raises(ValidationError, match="already taken in this organization"):
        services.user_create(organization=org, email="sam2@example.test", username="sam")


def test_user_update_records_only_real_changes(org):
    user = UserFactory(organization=org, department="Sales")
    received = []
    signals.user_changed.connect(lambda **kw: received.append(kw["changed_fields"]), weak=False, dispatch_uid="t1")
    try:
        services.user_update(user=user, data={"department": "Sales"})
        assert not events("user_update")
        services.user_update(user=user, data={"department": "Engineering", "job_title": "Engineer"})
    finally:
        signals.user_changed.disconnect(dispatch_uid="t1")
    (event,) = events("user_update")
    assert {c["field"] for c in event.changes} == {"department", "job_title"}
    assert {"field": "department", "from": "Sales", "to": "Engineering"} in event.changes
    assert received == [{"department", "job_title"}]


def test_suspend_blocks_sign_in_and_reactivate_restores(org, client):
    user = UserFactory(organization=org, email="s@example.test")
    services.user_suspend(user=user)
    user.refresh_from_db()
    assert user.state == UserState.SUSPENDED and not user.is_active
    assert not client.login(email="s@example.test", password="correct horse battery staple")
    services.user_reactivate(user=user)
    assert client.login(email="s@example.test", password="correct horse battery staple")
    assert [e.event_type for e in Event.objects.order_by("id")][-2:] == ["user_suspend", "user_reactivate"]


def test_suspension_ends_an_open_session(org, client):
    user = UserFactory(organization=org, is_staff=True)
    client.force_login(user)
    services.user_suspend(user=user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response.url


def test_update_with_state_delegates_to_suspend(org):
    user = UserFactory(organization=org)
    services.user_update(user=user, data={"state": "suspended"})
    assert events("user_suspend")


def test_unknown_state_refused(org):
    user = UserFactory(organization=org)
    with pytest.raises(ValidationError, match="is not a user state"):
        services.user_state_set(user=user, state="deleted")


def test_user_delete_signals_before_the_row_goes(org):
    user = UserFactory(organization=org)
    seen = []
    signals.user_deleting.connect(
        lambda **kw: seen.append(User.objects.filter(pk=kw["user"].pk).exists()), weak=False, dispatch_uid="t2"
    )
    try:
        services.user_delete(user=user)
    finally:
        signals.user_deleting.disconnect(dispatch_uid="t2")
    assert seen == [True]
    assert not User.objects.filter(pk=user.pk).exists()
    (event,) = events("user_delete")
    assert event.resource_name == user.email  # the snapshot outlives the user


def test_group_membership_add_remove_records_each_member(org):
    group = UserGroupFactory(organization=org)
    alice, bob = UserFactory(organization=org), UserFactory(organization=org)
    assert services.group_members_add(group=group, users=[alice, bob]) == [alice, bob]
    assert services.group_members_add(group=group, users=[alice]) == []  # already a member: nothing
    assert services.group_members_remove(group=group, users=[bob]) == [bob]
    assert list(group.members.all()) == [alice]
    assert len(events("group_member_add")) == 2
    assert len(events("group_member_remove")) == 1


def test_group_refuses_user_of_another_organization(org, other_org):
    group = UserGroupFactory(organization=org)
    stranger = UserFactory(organization=other_org)
    with pytest.raises(ValidationError, match="only hold users of its own organization"):
        services.group_members_add(group=group, users=[stranger])
    assert not group.members.exists()


@pytest.mark.parametrize("side", ["group", "user"])
def test_membership_guard_refuses_cross_organization_from_either_side(org, other_org, side):
    group = UserGroupFactory(organization=org)
    stranger = UserFactory(organization=other_org)
    with pytest.raises(ValidationError), transaction.atomic():
        if side == "group":
            group.members.add(stranger)
        else:
            stranger.user_groups.add(group)
    assert not group.members.exists()


def test_group_name_unique_within_organization(org, other_org):
    services.group_create(organization=org, name="Sales")
    services.group_create(organization=other_org, name="Sales")
    with pytest.raises(ValidationError, match="already exists"):
        services.group_create(organization=org, name="sales")


def test_group_delete_removes_members_first(org):
    member = UserFactory(organization=org)
    group = UserGroupFactory(organization=org, members=[member])
    services.group_delete(group=group)
    assert events("group_member_remove") and events("group_delete")
    assert User.objects.filter(pk=member.pk).exists()


def test_password_never_reaches_the_event_log(org):
    user = UserFactory(organization=org)
    services.user_set_password(user=user, password="s3cret-Pa55word")
    (event,) = events("user_password_set")
    assert "s3cret" not in str(event.changes)
    assert event.changes == [{"field": "password", "from": "[redacted]", "to": "[redacted]"}]
