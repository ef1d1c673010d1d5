"""The services read the permission matrix too: a refusal is a sentence, a failed event, and no write at all."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from directory import services
from directory.models import User, UserState
from directory.roles import ADMINISTRATOR, HELP_DESK, MANAGER, READ_ONLY
from directory.user_import import users_import_csv
from insights.models import Event
from ssoapps.portal import services as portal_services
from tests.factories import PASSWORD, TenantAdminFactory, UserFactory, UserGroupFactory

pytestmark = pytest.mark.django_db


def admin_of(org, role: str, **fields) -> User:
    return TenantAdminFactory(organization=org, roles=[Group.objects.get(name=role)], **fields)


@pytest.fixture
def manager(org):
    return admin_of(org, MANAGER, email="manager@org-a.test")


@pytest.fixture
def boss(org):
    return admin_of(org, ADMINISTRATOR, email="boss@org-a.test")


def refusals(actor, target=None):
    events = Event.objects.filter(success=False, initiator_email=actor.email)
    return events.filter(resource_id=str(target.pk)) if target is not None else events


def assert_boss_untouched(boss):
    stored = User.objects.get(pk=boss.pk)
    assert stored.email == "boss@org-a.test" and stored.state == UserState.ACTIVE
    assert stored.check_password(PASSWORD) and stored.is_staff
    assert set(stored.groups.values_list("name", flat=True)) == {ADMINISTRATOR}


@pytest.mark.parametrize(
    ("service", "kwargs", "event_type"),
    [
        (services.user_update, {"data": {"email": "mine@example.test"}}, "user_update"),
        (services.user_update, {"data": {"is_staff": False}}, "user_update"),
        (services.user_update, {"data": {"state": UserState.SUSPENDED}}, "user_suspend"),
        (services.user_state_set, {"state": UserState.SUSPENDED}, "user_suspend"),
        (services.user_set_password, {"password": "a-Takeover-pass-9"}, "user_password_set"),
        (services.user_delete, {}, "user_delete"),
        (services.user_roles_set, {"roles": []}, "user_roles_update"),
    ],
    ids=["email", "is_staff", "state-via-update", "suspend", "password", "delete", "roles"],
)
def test_a_manager_cannot_act_on_an_administrator_through_any_service(manager, boss, service, kwargs, event_type):
    with pytest.raises(PermissionDenied, match="cannot") as refused:
        service(user=boss, actor=manager, **kwargs)
    # Either the Manager role cannot do this at all, or it can, but not to an Administrator.
    assert "Your admin role (Manager) cannot" in str(refused.value) or "they are an Administrator" in str(refused.value)
    assert_boss_untouched(boss)
    (refusal,) = refusals(manager, boss)
    assert refusal.event_type == event_type and refusal.message.startswith("Refused: ")
    assert "Takeover" not in refusal.message


def test_the_same_services_run_for_an_administrator_on_a_lower_user_and_for_the_system(org, boss, manager):
    member = UserFactory(organization=org)
    services.user_update(user=member, actor=manager, data={"department": "Ops"})
    services.user_set_password(user=member, actor=manager, password="a-Helpful-pass-7")
    services.user_roles_set(user=manager, actor=boss, roles=[Group.objects.get(name=HELP_DESK)])
    services.user_state_set(user=boss, state=UserState.SUSPENDED)  # actor=None: the system (jobs, seeding)
    member.refresh_from_db()
    assert member.department == "Ops" and member.check_password("a-Helpful-pass-7")
    assert list(manager.groups.values_list("name", flat=True)) == [HELP_DESK]
    assert User.objects.get(pk=boss.pk).state == UserState.SUSPENDED
    assert not Event.objects.filter(success=False).exists()


def test_group_membership_of_a_higher_user_is_refused_whole(org, manager, boss):
    member = UserFactory(organization=org)
    group = UserGroupFactory(organization=org, members=[boss])
    with pytest.raises(PermissionDenied, match="cannot change the group memberships of boss@org-a.test"):
        services.group_members_set(group=group, users=[member], actor=manager)
    assert list(group.members.all()) == [boss]  # nobody removed, nobody added
    with pytest.raises(PermissionDenied):
        services.group_members_remove(group=group, users=[boss], actor=manager)
    assert services.group_members_add(group=group, users=[member, boss], actor=manager) == [member]  # boss: no change
    assert {e.event_type for e in refusals(manager, boss)} == {"group_member_remove"}


def test_only_administrators_make_tenant_admins_and_never_above_their_own_role(org, boss, manager):
    member = UserFactory(organization=org)
    with pytest.raises(PermissionDenied, match=r"Your admin role \(Manager\) cannot change the admin role of users"):
        services.user_update(user=member, actor=manager, data={"is_staff": True})
    with pytest.raises(PermissionDenied):
        services.user_create(organization=org, email="new.admin@org-a.test", is_staff=True, actor=manager)
    assert not User.objects.filter(email="new.admin@org-a.test").exists()
    with pytest.raises(PermissionDenied, match="your own account"):
        services.user_roles_set(user=boss, actor=boss, roles=[])
    services.user_roles_set(user=member, actor=boss, roles=[Group.objects.get(name=ADMINISTRATOR)])  # a peer, not above
    rogue_role = Group.objects.create(name="Platform wizard")  # not a tenant role: ranks above every tenant admin
    with pytest.raises(PermissionDenied, match="cannot grant the Platform wizard role"):
        services.user_roles_set(user=manager, actor=boss, roles=[rogue_role])
    assert list(manager.groups.values_list("name", flat=True)) == [MANAGER]


def test_organization_settings_are_administrator_only_in_the_service(org, manager, boss, other_org):
    """Finding 6: a Manager switched off the organization's "require MFA" and renamed it."""
    org.require_mfa = True
    org.save()
    with pytest.raises(PermissionDenied, match=r"Your admin role \(Manager\) cannot change the settings of"):
        services.organization_update(organization=org, actor=manager, data={"require_mfa": False, "name": "Pwned"})
    org.refresh_from_db()
    assert org.require_mfa is True and org.name == "Org A"
    assert refusals(manager).get().event_type == "organization_update"
    with pytest.raises(PermissionDenied, match="another organization"):
        services.organization_update(organization=other_org, actor=boss, data={"name": "Mine now"})
    services.organization_update(organization=org, actor=boss, data={"require_mfa": False})
    org.refresh_from_db()
    assert org.require_mfa is False


def test_a_managers_csv_row_updating_an_administrator_is_refused(org, manager, boss):
    member = UserFactory(organization=org, email="member@org-a.test")
    UserGroupFactory(organization=org, name="Finance")
    report = users_import_csv(
        organization=org,
        data=b"email,department,state,groups\n"
        b"boss@org-a.test,Nowhere,suspended,\n"
        b"member@org-a.test,Finance,,Finance\n"
        b"boss@org-a.test,,,Finance\n",
        actor=manager,
    )
    assert [r.outcome for r in report] == ["refused", "updated", "refused"]
    assert "they are an Administrator" in report[0].message
    assert "cannot change the group memberships of boss@org-a.test" in report[2].message
    assert_boss_untouched(boss)
    assert User.objects.get(pk=boss.pk).department == ""
    assert User.objects.get(pk=member.pk).department == "Finance"
    assert Event.objects.filter(event_type="user_import_row", success=False).count() == 2


def test_password_validators_run_in_the_service_whoever_calls_it(org, boss):
    member = UserFactory(organization=org, email="jane.doe@org-a.test", first_name="Jane")
    for weak in ("1", "password", "jane.doe@org-a"):
        with pytest.raises(ValidationError):
            services.user_set_password(user=member, password=weak, actor=boss)
        with pytest.raises(ValidationError):
            services.user_set_password(user=member, password=weak)
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
    assert Event.objects.filter(event_type="user_password_set", success=False).count() == 6


def test_removing_a_second_factor_is_an_administrator_action(org, manager, boss):
    member = UserFactory(organization=org)
    TOTP.activate(member, generate_totp_secret())
    totp = Authenticator.objects.get(user=member)
    for actor in (manager, admin_of(org, HELP_DESK), admin_of(org, READ_ONLY)):
        with pytest.raises(PermissionDenied, match="cannot remove the second factors of users"):
            portal_services.authenticator_remove(authenticator=totp, actor=actor)
        assert refusals(actor, member).get().event_type == "mfa_remove"
    assert Authenticator.objects.filter(pk=totp.pk).exists()
    portal_services.authenticator_remove(authenticator=totp, actor=boss)
    assert not Authenticator.objects.filter(user=member).exists()


def test_recovery_codes_go_with_the_last_real_factor(org, boss):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    member = UserFactory(organization=org)
    TOTP.activate(member, generate_totp_secret())
    RecoveryCodes.activate(member)
    portal_services.authenticator_remove(
        authenticator=Authenticator.objects.get(user=member, type=Authenticator.Type.TOTP), actor=boss
    )
    assert not Authenticator.objects.filter(user=member).exists()
