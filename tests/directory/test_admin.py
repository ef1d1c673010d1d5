"""The directory admin as a tenant admin uses it."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory.models import User, UserGroup, UserState
from directory.roles import HELP_DESK, MANAGER
from insights.models import Event
from tests.factories import TenantAdminFactory, UserFactory, UserGroupFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:directory_user_changelist")


def changelist_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries)


def test_user_changelist_queries_do_not_grow_with_users(admin_client, org):
    groups = UserGroupFactory.create_batch(3, organization=org)
    UserFactory.create_batch(10, organization=org)
    with_10 = changelist_queries(admin_client)
    for user in UserFactory.create_batch(190, organization=org):
        user.user_groups.add(*groups)
    assert changelist_queries(admin_client) == with_10


def test_search_and_filters(admin_client, org):
    UserFactory(organization=org, email="findme@example.test", state=UserState.SUSPENDED)
    member = UserFactory(organization=org, email="member@example.test")
    group = UserGroupFactory(organization=org, members=[member])
    found = admin_client.get(CHANGELIST, {"q": "findme"}).context["cl"].result_list
    assert [u.email for u in found] == ["findme@example.test"]
    suspended = admin_client.get(CHANGELIST, {"state__exact": "suspended"}).context["cl"].result_list
    assert [u.email for u in suspended] == ["findme@example.test"]
    in_group = admin_client.get(CHANGELIST, {"group": group.pk}).context["cl"].result_list
    assert [u.email for u in in_group] == ["member@example.test"]


def test_bulk_suspend_and_reactivate(admin_client, org, tenant_admin):
    users = UserFactory.create_batch(3, organization=org)
    ids = [u.pk for u in users]
    admin_client.post(CHANGELIST, {"action": "suspend_users", "_selected_action": ids + [tenant_admin.pk]})
    assert set(User.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"suspended"}
    assert User.objects.get(pk=tenant_admin.pk).state == "active"  # never yourself
    assert Event.objects.filter(event_type="user_suspend").count() == 3
    admin_client.post(CHANGELIST, {"action": "reactivate_users", "_selected_action": ids})
    assert set(User.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"active"}


def test_add_to_group_asks_for_the_group_then_adds(admin_client, org, other_org):
    users = UserFactory.create_batch(2, organization=org)
    group = UserGroupFactory(organization=org, name="Engineering")
    UserGroupFactory(organization=other_org, name="Foreign team")
    ids = [u.pk for u in users]
    page = admin_client.post(CHANGELIST, {"action": "add_to_group", "_selected_action": ids})
    assert page.status_code == 200
    assert "Engineering" in page.content.decode() and "Foreign team" not in page.content.decode()
    admin_client.post(CHANGELIST, {"action": "add_to_group", "_selected_action": ids, "group": group.pk, "apply": "1"})
    assert set(group.members.all()) == set(users)
    admin_client.post(
        CHANGELIST, {"action": "remove_from_group", "_selected_action": ids[:1], "group": group.pk, "apply": "1"}
    )
    assert list(group.members.all()) == [users[1]]


def test_add_to_foreign_group_is_refused(admin_client, org, other_org):
    user = UserFactory(organization=org)
    UserGroupFactory(organization=org, name="Our own")
    foreign = UserGroupFactory(organization=other_org)
    page = admin_client.post(
        CHANGELIST, {"action": "add_to_group", "_selected_action": [user.pk], "group": foreign.pk, "apply": "1"}
    )
    assert page.status_code == 200  # the form is shown again with an error
    assert "Select a valid choice" in page.content.decode()
    assert not foreign.members.exists()


def test_create_user_through_admin_goes_through_services(admin_client, org, tenant_admin):
    response = admin_client.post(
        reverse("admin:directory_user_add"),
        {"email": "Fresh@Example.test", "username": "", "state": "active", "new_password": "a-Long-pass-123"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="fresh@example.test")
    assert user.organization == org and user.username == "fresh"
    assert user.check_password("a-Long-pass-123")
    event = Event.objects.get(event_type="user_create")
    assert event.initiator_email == tenant_admin.email


def test_group_admin_membership_changes_are_recorded(admin_client, org):
    alice, bob = UserFactory(organization=org), UserFactory(organization=org)
    add = admin_client.post(
        reverse("admin:directory_usergroup_add"), {"name": "Ops", "description": "", "members": [alice.pk, bob.pk]}
    )
    assert add.status_code == 302
    group = UserGroup.objects.get(name="Ops", organization=org)
    assert set(group.members.all()) == {alice, bob}
    admin_client.post(
        reverse("admin:directory_usergroup_change", args=[group.pk]),
        {"name": "Ops", "description": "", "members": [alice.pk]},
    )
    assert list(group.members.all()) == [alice]
    assert Event.objects.filter(event_type="group_member_remove", message__contains=bob.email).exists()


def test_help_desk_cannot_make_admins(client, org):
    helper = TenantAdminFactory(organization=org, roles=[Group.objects.get(name=HELP_DESK)])
    target = UserFactory(organization=org)
    client.force_login(helper)
    client.post(
        reverse("admin:directory_user_change", args=[target.pk]),
        {"email": target.email, "username": target.username, "state": "active", "is_staff": "on"},
    )
    target.refresh_from_db()
    assert not target.is_staff


def test_csv_import_page_reports_each_row(admin_client, org):
    upload = SimpleUploadedFile("users.csv", b"email,first_name\nok@example.test,Ok\n,Nobody\n", "text/csv")
    page = admin_client.post(reverse("admin:directory_user_import"), {"file": upload})
    html = page.content.decode()
    assert page.status_code == 200
    assert "ok@example.test" in html and "created" in html
    assert "The email cell is empty" in html
    assert User.objects.filter(email="ok@example.test", organization=org).exists()


def test_csv_import_page_shows_file_errors_as_sentences(admin_client):
    upload = SimpleUploadedFile("users.csv", b"name\nx\n", "text/csv")
    page = admin_client.post(reverse("admin:directory_user_import"), {"file": upload})
    assert page.status_code == 200
    assert "The file has no “email” column" in page.content.decode()


def test_read_only_role_cannot_import(client, org):
    viewer = TenantAdminFactory(organization=org, roles=[Group.objects.get(name="Read Only")])
    client.force_login(viewer)
    assert client.get(reverse("admin:directory_user_import")).status_code == 403


def test_bulk_actions_skip_users_of_the_actors_role_or_higher_and_say_so(client, org):
    manager = TenantAdminFactory(organization=org, roles=[Group.objects.get(name=MANAGER)])
    boss = TenantAdminFactory(organization=org, email="boss@example.test")
    member = UserFactory(organization=org)
    group = UserGroupFactory(organization=org, name="Engineering")
    client.force_login(manager)
    page = client.post(
        CHANGELIST, {"action": "suspend_users", "_selected_action": [member.pk, boss.pk], "index": 0}, follow=True
    )
    html = page.content.decode()
    assert "1 user suspended." in html and "You cannot suspend or reactivate boss@example.test" in html
    assert User.objects.get(pk=member.pk).state == "suspended" and User.objects.get(pk=boss.pk).state == "active"
    selection = {"action": "add_to_group", "_selected_action": [member.pk, boss.pk], "group": group.pk, "apply": "1"}
    page = client.post(CHANGELIST, selection, follow=True)
    assert "cannot change the group memberships of boss@example.test" in page.content.decode()
    assert list(group.members.all()) == [member]
    refused = Event.objects.filter(success=False, resource_name=boss.email)
    assert {e.event_type for e in refused} == {"user_suspend", "group_member_add"}


def test_help_desk_is_not_offered_group_membership_or_delete_actions(client, org):
    helper = TenantAdminFactory(organization=org, roles=[Group.objects.get(name=HELP_DESK)])
    client.force_login(helper)
    offered = {name for name, _ in client.get(CHANGELIST).context["action_form"].fields["action"].choices if name}
    assert offered == {"suspend_users", "reactivate_users"}


def test_group_admin_refuses_moving_a_higher_user_in_or_out(client, org):
    manager = TenantAdminFactory(organization=org, roles=[Group.objects.get(name=MANAGER)])
    boss = TenantAdminFactory(organization=org, email="boss@example.test")
    member = UserFactory(organization=org)
    group = UserGroupFactory(organization=org, name="IT", members=[boss])
    client.force_login(manager)
    url = reverse("admin:directory_usergroup_change", args=[group.pk])
    page = client.post(url, {"name": "IT", "description": "", "members": [member.pk]})
    assert page.status_code == 200  # the form again, with the reason under Members
    assert "cannot change the group memberships of boss@example.test" in page.content.decode()
    assert list(group.members.all()) == [boss]
    assert Event.objects.get(success=False).event_type == "group_member_remove"
    response = client.post(url, {"name": "IT", "description": "", "members": [boss.pk, member.pk]})
    assert response.status_code == 302 and set(group.members.all()) == {boss, member}


@pytest.mark.parametrize("value", ["²", "١", "9" * 40])
def test_group_filter_ignores_values_that_are_not_a_group_id(admin_client, value):
    response = admin_client.get(reverse("admin:directory_user_changelist"), {"group": value})
    assert response.status_code == 200
