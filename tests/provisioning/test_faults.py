"""The engine against SP quirks: no PATCH, no filtering, 429s, 500s, slow answers, revoked tokens."""

import pytest

from directory import services as directory
from insights.models import Event
from provisioning import services, sweep
from provisioning.models import IntegrationStatus, ProvisionedAccount
from ssoapps import services as ssoapps
from tests.factories import UserFactory
from tests.provisioning.conftest import remote_by_username

pytestmark = pytest.mark.django_db(transaction=True)


def _activate_and_bind(*, org, application, group, integration, run_jobs, count: int = 3) -> list:
    services.integration_activate(integration=integration)
    users = [UserFactory(organization=org, email=f"q{i}@org-a.test", first_name=f"Q{i}") for i in range(count)]
    directory.group_members_add(group=group, users=users)
    ssoapps.application_groups_bind(application=application, groups=[group])
    run_jobs()
    return users


def _in_line(scim_server, users) -> None:
    remote = remote_by_username(scim_server)
    assert sorted(remote) == sorted(u.email for u in users)  # none missing, none extra
    assert all(remote[u.email]["active"] is True for u in users)
    assert not ProvisionedAccount.objects.filter(dirty=True).exists()


def test_an_sp_without_patch_gets_put(org, application, group, integration, scim_server, run_jobs):
    scim_server.quirks.no_patch = True
    users = _activate_and_bind(
        org=org, application=application, group=group, integration=integration, run_jobs=run_jobs
    )
    integration.refresh_from_db()
    assert integration.capabilities["patch"] is False

    scim_server.log.clear()
    directory.user_update(user=users[0], data={"first_name": "Changed"})
    directory.user_suspend(user=users[1])
    run_jobs()
    writes = [c[0] for c in scim_server.log.calls() if c[0] != "GET" and c[1].startswith("/v2/Users")]
    assert writes == ["PUT", "PUT"]
    remote = remote_by_username(scim_server)
    assert remote[users[0].email]["name"]["givenName"] == "Changed"
    assert remote[users[1].email]["active"] is False


def test_an_sp_announcing_patch_but_refusing_it_falls_back_to_put(
    org, application, group, integration, scim_server, run_jobs
):
    users = _activate_and_bind(
        org=org, application=application, group=group, integration=integration, run_jobs=run_jobs
    )
    scim_server.quirks.no_patch = True  # announced PATCH at activation, refuses it now
    directory.user_suspend(user=users[0])
    run_jobs()
    assert remote_by_username(scim_server)[users[0].email]["active"] is False
    assert any(c[0] == "PUT" for c in scim_server.log.calls())
    integration.refresh_from_db()
    assert integration.capabilities["patch"] is False  # later changes go straight to PUT


def test_an_sp_without_filtering_is_searched_by_listing(org, application, group, integration, scim_server, run_jobs):
    scim_server.quirks.no_filter = True
    services.integration_activate(integration=integration)
    run_jobs()
    integration.refresh_from_db()
    assert integration.capabilities["filter"] is False
    ssoapps.application_groups_bind(application=application, groups=[group])
    dora = UserFactory(organization=org, email="dora@org-a.test")
    directory.group_members_add(group=group, users=[dora])
    run_jobs()
    assert not [c for c in scim_server.log.calls() if "filter=" in c[2]]
    # the account is lost; the user is found again by listing instead of created twice
    ProvisionedAccount.objects.all().delete()
    directory.user_update(user=dora, data={"first_name": "Dora"})
    run_jobs()
    assert len(scim_server.users()) == 1
    assert remote_by_username(scim_server)["dora@org-a.test"]["name"]["givenName"] == "Dora"


@pytest.mark.parametrize("header", ["Retry-After", "X-RateLimit-Reset"])
def test_throttling_is_honoured_and_everything_arrives_once(
    header, org, application, group, integration, scim_server, run_jobs
):
    scim_server.quirks.throttle_every = 3
    scim_server.quirks.throttle_header = header
    scim_server.quirks.throttle_seconds = 1
    users = _activate_and_bind(
        org=org, application=application, group=group, integration=integration, run_jobs=run_jobs, count=5
    )
    _in_line(scim_server, users)
    assert any(c[3] == "429" for c in scim_server.log.calls())
    assert Event.objects.filter(event_type="scim_request", success=False, message__contains="429").exists()


def test_intermittent_server_errors_are_retried_without_duplicates(
    org, application, group, integration, scim_server, run_jobs
):
    scim_server.quirks.fail_every = 4
    users = _activate_and_bind(
        org=org, application=application, group=group, integration=integration, run_jobs=run_jobs, count=6
    )
    _in_line(scim_server, users)
    assert sum(1 for c in scim_server.log.calls() if c[3] == "500") >= 2


def test_timeouts_on_a_slow_sp_are_retried_and_the_sweep_finishes_the_work(
    settings, org, application, group, integration, scim_server, run_jobs
):
    services.integration_activate(integration=integration)
    run_jobs()
    settings.PROVISIONING_HTTP_TIMEOUT = 0.2
    settings.PROVISIONING_RETRY_ATTEMPTS = 2
    scim_server.quirks.delay = 0.5  # every answer comes too late: the SP still creates the user
    ssoapps.application_groups_bind(application=application, groups=[group])
    erin = UserFactory(organization=org, email="erin@org-a.test")
    directory.group_members_add(group=group, users=[erin])
    run_jobs()
    account = ProvisionedAccount.objects.get(user=erin)
    assert account.dirty and "attempts" in account.last_error
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.FAILING

    scim_server.quirks.delay = 0.05
    assert sweep.accounts_sweep() == 1
    run_jobs()
    _in_line(scim_server, [erin])  # the user the SP created during the timeout is adopted, not duplicated
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ACTIVE


def test_a_revoked_token_fails_once_per_account_then_quarantines_until_lifted(
    settings, org, application, group, integration, scim_server, run_jobs
):
    settings.PROVISIONING_QUARANTINE_AFTER = 3
    services.integration_activate(integration=integration)
    ssoapps.application_groups_bind(application=application, groups=[group])
    run_jobs()
    scim_server.app.set_token("rotated-by-the-app")
    users = [UserFactory(organization=org, email=f"r{i}@org-a.test") for i in range(4)]
    for user in users:
        directory.group_members_add(group=group, users=[user])
    run_jobs()

    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.QUARANTINED
    assert "401" in integration.last_error
    failed = Event.objects.filter(event_type="user_lookup_provision", success=False)
    assert failed.count() == 3  # one per account tried, none retried; the fourth waits for the lift
    assert scim_server.users() == []

    scim_server.app.set_token(integration.token)
    services.integration_quarantine_lift(integration=integration)
    run_jobs()
    _in_line(scim_server, users)
