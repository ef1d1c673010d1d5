"""The reconciler's decisions, one account at a time against the demo SCIM server (no queue, no worker)."""

import pytest

from directory.models import User, UserState
from insights.models import Event
from provisioning.client import integration_client
from provisioning.models import AccountState, Integration, IntegrationStatus, ProvisionedAccount
from provisioning.reconcile import Reconciler
from tests.factories import UserFactory
from tests.provisioning.conftest import remote_by_username
from tests.provisioning.factories import ProvisionedAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(integration, group, application, redis_queues) -> Integration:
    """The test integration, active with the demo server's capabilities, and `group` bound to its app."""
    application.authorized_groups.add(group)
    integration.status = IntegrationStatus.ACTIVE
    integration.capabilities = {"patch": True, "filter": True, "delete": True, "groups": False}
    integration.save()
    return integration


def _account(org, group, integration, **user_fields) -> ProvisionedAccount:
    user = UserFactory(organization=org, **user_fields)
    group.members.add(user)
    return ProvisionedAccountFactory(integration=integration, user=user, dirty=True)


def _reconcile(integration: Integration, account: ProvisionedAccount) -> bool:
    account = ProvisionedAccount.objects.select_related("user").get(pk=account.pk)
    with integration_client(integration=integration) as client:
        return Reconciler(integration=integration, client=client).reconcile(account)


def _writes(server) -> list[str]:
    return [c[0] for c in server.log.calls() if c[0] != "GET"]


def test_a_user_the_app_does_not_have_is_looked_up_then_created(org, group, running, scim_server):
    account = _account(org, group, running, email="ada@example.test", first_name="Ada")

    assert _reconcile(running, account)

    remote = remote_by_username(scim_server)["ada@example.test"]
    account.refresh_from_db()
    assert account.remote_id == remote["id"] and account.sent_state == AccountState.ACTIVE and not account.dirty
    assert _writes(scim_server) == ["POST"]


def test_a_create_the_app_answers_with_conflict_links_to_its_user_instead_of_duplicating(
    org, group, running, scim_server
):
    account = _account(org, group, running, email="ada@example.test", first_name="Ada")
    with integration_client(integration=running) as client:  # the app has her already, with another first name
        client.user_create(payload={"userName": "ada@example.test", "name": {"givenName": "Old"}})
    ProvisionedAccount.objects.filter(pk=account.pk).update(lookup_done=True)  # believed absent: straight to POST
    scim_server.log.clear()

    assert _reconcile(running, account)

    assert len(scim_server.users()) == 1
    assert remote_by_username(scim_server)["ada@example.test"]["name"]["givenName"] == "Ada"
    assert _writes(scim_server) == ["POST", "PATCH"]  # the refused create, then the difference
    assert Event.objects.filter(message="Already in the app; linked to the existing account.").exists()


def test_a_user_the_app_lost_is_created_again(org, group, running, scim_server):
    account = _account(org, group, running, email="ada@example.test", first_name="Ada")
    _reconcile(running, account)
    account.refresh_from_db()
    with integration_client(integration=running) as client:
        client.user_delete(remote_id=account.remote_id)  # deleted on the app's side
    account.user.first_name = "Augusta"
    account.user.save()
    scim_server.log.clear()

    assert _reconcile(running, account)

    assert _writes(scim_server) == ["PATCH", "POST"]  # the update found nothing: created again
    assert remote_by_username(scim_server)["ada@example.test"]["name"]["givenName"] == "Augusta"


def test_an_app_without_patch_gets_put_and_is_remembered(org, group, running, scim_server):
    account = _account(org, group, running, email="ada@example.test")
    _reconcile(running, account)
    scim_server.quirks.no_patch = True
    User.objects.filter(pk=account.user_id).update(state=UserState.SUSPENDED)
    scim_server.log.clear()

    assert _reconcile(running, account)

    assert _writes(scim_server) == ["PATCH", "PUT"]
    assert remote_by_username(scim_server)["ada@example.test"]["active"] is False
    running.refresh_from_db()
    assert running.capabilities["patch"] is False


def test_a_user_already_gone_from_the_app_counts_as_deleted(org, group, running, scim_server):
    account = _account(org, group, running, email="ada@example.test")
    _reconcile(running, account)
    account.refresh_from_db()
    with integration_client(integration=running) as client:
        client.user_delete(remote_id=account.remote_id)
    ProvisionedAccount.objects.filter(pk=account.pk).update(user_deleted=True, dirty=True)

    assert _reconcile(running, account)

    account.refresh_from_db()
    assert account.sent_state == AccountState.DELETED and account.remote_id == "" and not account.dirty
    assert Event.objects.filter(event_type="user_delete_provision", success=True).exists()


def test_an_app_that_cannot_filter_is_searched_by_listing(org, group, running, scim_server):
    account = _account(org, group, running, email="ada@example.test")
    with integration_client(integration=running) as client:
        client.user_create(payload={"userName": "ada@example.test"})
    scim_server.quirks.no_filter = True
    scim_server.log.clear()

    assert _reconcile(running, account)

    assert len(scim_server.users()) == 1  # found in the listing and linked, not created twice
    assert "POST" not in _writes(scim_server)
    assert Event.objects.filter(event_type="user_lookup_provision", success=False).exists()


def test_a_refusal_is_permanent_the_account_is_left_clean_with_the_sentence(org, group, running, scim_server):
    account = _account(org, group, running, email="ada@example.test")
    scim_server.app.set_token("rotated-on-the-app-side")

    assert not _reconcile(running, account)

    account.refresh_from_db()
    assert not account.dirty  # refused, not failing: no retry storm until someone fixes the token
    assert "Re-authenticate with a valid token" in account.last_error
    running.refresh_from_db()
    assert running.status == IntegrationStatus.FAILING and running.consecutive_failures == 1


def test_an_update_patches_only_what_changed_and_its_event_says_from_what_to_what(org, group, running, scim_server):
    account = _account(org, group, running, email="ada@example.test", first_name="Ada")
    _reconcile(running, account)
    User.objects.filter(pk=account.user_id).update(first_name="Augusta")
    scim_server.log.clear()

    assert _reconcile(running, account)

    assert _writes(scim_server) == ["PATCH"]
    event = Event.objects.get(event_type="user_update_provision")
    assert event.message == "Updated in the app: name.givenName."
    assert event.changes == [{"field": "name.givenName", "from": "Ada", "to": "Augusta"}]
