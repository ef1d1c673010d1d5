"""Every directory trigger reaches the SP with the right SCIM call (real Redis, real RQ worker, real SCIM server)."""

import pytest

from directory import services as directory
from insights.models import Event
from provisioning import batches, marking, services
from provisioning.models import IntegrationStatus, ProvisionedAccount
from ssoapps import services as ssoapps
from tests.factories import UserFactory
from tests.provisioning.conftest import remote_by_username

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def active(integration, run_jobs):
    services.integration_activate(integration=integration)
    run_jobs()
    integration.refresh_from_db()
    return integration


def test_binding_a_group_creates_its_members_in_the_app(org, application, group, active, scim_server, run_jobs):
    alice = UserFactory(organization=org, email="alice@org-a.test", first_name="Alice", last_name="Liddell")
    directory.group_members_add(group=group, users=[alice])
    assert scim_server.users() == []  # not bound yet: nothing to send

    ssoapps.application_groups_bind(application=application, groups=[group])
    run_jobs()

    remote = remote_by_username(scim_server)["alice@org-a.test"]
    assert remote["active"] is True
    assert remote["name"]["givenName"] == "Alice"
    account = ProvisionedAccount.objects.get(user=alice)
    assert account.remote_id == remote["id"] and not account.dirty
    assert Event.objects.filter(event_type="user_create_provision", success=True, resource_name=alice.email).exists()


def test_attribute_change_suspension_reactivation_removal_and_deletion(
    org, application, group, active, scim_server, run_jobs
):
    ssoapps.application_groups_bind(application=application, groups=[group])
    bob = UserFactory(organization=org, email="bob@org-a.test", first_name="Bob")
    directory.group_members_add(group=group, users=[bob])
    run_jobs()
    assert remote_by_username(scim_server)["bob@org-a.test"]["active"] is True

    scim_server.log.clear()
    directory.user_update(user=bob, data={"first_name": "Robert"})
    run_jobs()
    assert remote_by_username(scim_server)["bob@org-a.test"]["name"]["givenName"] == "Robert"
    assert [c[0] for c in scim_server.log.calls() if c[0] != "GET" and c[1].startswith("/v2/Users")] == ["PATCH"]

    directory.user_suspend(user=bob)
    run_jobs()
    assert remote_by_username(scim_server)["bob@org-a.test"]["active"] is False
    assert Event.objects.filter(event_type="user_deprovision", resource_name=bob.email).exists()

    directory.user_reactivate(user=bob)
    run_jobs()
    assert remote_by_username(scim_server)["bob@org-a.test"]["active"] is True

    directory.group_members_remove(group=group, users=[bob])
    run_jobs()
    assert remote_by_username(scim_server)["bob@org-a.test"]["active"] is False

    directory.group_members_add(group=group, users=[bob])
    run_jobs()
    assert remote_by_username(scim_server)["bob@org-a.test"]["active"] is True

    scim_server.log.clear()
    directory.user_delete(user=bob)
    run_jobs()
    assert "bob@org-a.test" not in remote_by_username(scim_server)
    assert [c[0] for c in scim_server.log.calls() if c[1].startswith("/v2/Users")] == ["DELETE"]
    assert Event.objects.filter(
        event_type="user_delete_provision", success=True, resource_name="bob@org-a.test"
    ).exists()


def test_unbinding_the_group_deactivates_and_running_again_changes_nothing(
    org, application, group, active, scim_server, run_jobs
):
    users = [UserFactory(organization=org, email=f"u{i}@org-a.test") for i in range(3)]
    directory.group_members_add(group=group, users=users)
    ssoapps.application_groups_bind(application=application, groups=[group])
    run_jobs()
    assert {u["userName"] for u in scim_server.users() if u["active"]} == {u.email for u in users}

    ssoapps.application_groups_unbind(application=application, groups=[group])
    run_jobs()
    assert all(u["active"] is False for u in scim_server.users())

    scim_server.log.clear()
    marking.integration_full_sync(integration=active)
    run_jobs()
    assert [c for c in scim_server.log.calls() if c[0] != "GET"] == []  # idempotent: nothing more to send
    assert len(scim_server.users()) == 3


def test_activation_adopts_users_already_in_the_app_instead_of_duplicating(
    org, application, group, integration, scim_server, run_jobs
):
    carol = UserFactory(organization=org, email="carol@org-a.test")
    directory.group_members_add(group=group, users=[carol])
    ssoapps.application_groups_bind(application=application, groups=[group])
    services.integration_activate(integration=integration)
    run_jobs()
    first_id = remote_by_username(scim_server)["carol@org-a.test"]["id"]

    # the account row is lost, as if Lanyard crashed right after the app created the user
    ProvisionedAccount.objects.all().delete()
    marking.integration_full_sync(integration=integration)
    run_jobs()
    assert len(scim_server.users()) == 1
    assert ProvisionedAccount.objects.get(user=carol).remote_id == first_id


def test_activation_with_a_wrong_token_stays_inactive_and_says_why(integration, run_jobs):
    integration.token = "wrong"
    integration.save()
    with pytest.raises(Exception) as excinfo:
        services.integration_activate(integration=integration)
    assert "401" in str(excinfo.value) and "token" in str(excinfo.value)
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.INACTIVE
    event = Event.objects.get(event_type="idm_integration_activate")
    assert event.success is False and "token" in event.message


def test_groups_are_pushed_with_their_members_where_the_app_takes_groups(
    org, application, group, active, scim_server, run_jobs
):
    ann, ben = (UserFactory(organization=org, email=f"{n}@org-a.test") for n in ("ann", "ben"))
    directory.group_members_add(group=group, users=[ann, ben])
    ssoapps.application_groups_bind(application=application, groups=[group])
    run_jobs()
    (remote_group,) = scim_server.groups()
    users = remote_by_username(scim_server)
    assert remote_group["displayName"] == "Engineering"
    assert {m["value"] for m in remote_group["members"]} == {
        users["ann@org-a.test"]["id"],
        users["ben@org-a.test"]["id"],
    }

    directory.group_members_remove(group=group, users=[ben])
    run_jobs()
    (remote_group,) = scim_server.groups()
    assert [m["value"] for m in remote_group["members"]] == [users["ann@org-a.test"]["id"]]

    ssoapps.application_groups_unbind(application=application, groups=[group])
    run_jobs()
    assert scim_server.groups() == []
    assert Event.objects.filter(event_type="group_delete_provision", success=True).exists()


def test_an_app_without_groups_or_delete_gets_users_only_and_deactivation_on_deletion(
    org, group, scim_server, run_jobs
):
    from tests.provisioning.conftest import TOKEN
    from tests.provisioning.factories import ApplicationFactory, IntegrationFactory

    clickup = ApplicationFactory(organization=org, catalog_key="clickup", label="ClickUp")
    integration = IntegrationFactory(application=clickup, base_url=scim_server.base_url, token=TOKEN, capabilities={})
    services.integration_activate(integration=integration)
    fay = UserFactory(organization=org, email="fay@org-a.test")
    directory.group_members_add(group=group, users=[fay])
    ssoapps.application_groups_bind(application=clickup, groups=[group])
    run_jobs()
    assert remote_by_username(scim_server)["fay@org-a.test"]["active"] is True
    directory.user_delete(user=fay)
    run_jobs()
    assert remote_by_username(scim_server)["fay@org-a.test"]["active"] is False  # ClickUp: no delete
    assert not [c for c in scim_server.log.calls() if "/Groups" in c[1] or c[0] == "DELETE"]


def test_bulk_creation_adopts_a_user_the_app_already_has_instead_of_duplicating(
    org, application, group, active, scim_server, run_jobs, redis_queues
):
    users = [UserFactory(organization=org, email=f"b{i}@org-a.test") for i in range(4)]
    directory.group_members_add(group=group, users=users)
    ssoapps.application_groups_bind(application=application, groups=[group])
    redis_queues["provisioning"].empty()  # as if the per-user jobs were lost: a sync picks the accounts up
    batches.integration_sync(integration=active, list_remote=True)  # lists the (empty) app, queues a batch
    from tests.provisioning.test_admin import _remote_user

    _remote_user(scim_server, "b0@org-a.test")  # the app gains b0 after the listing (created by hand)
    scim_server.log.clear()
    run_jobs()

    remote = remote_by_username(scim_server)
    assert sorted(remote) == sorted(u.email for u in users)
    assert any(c[1] == "/v2/Bulk" for c in scim_server.log.calls())
    first = ProvisionedAccount.objects.get(user=users[0])
    assert first.remote_id == remote["b0@org-a.test"]["id"] and not first.dirty
