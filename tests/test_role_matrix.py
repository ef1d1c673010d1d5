"""The role matrix, tried the way each admin role would: every admin page, and every user action on every rank.

The expectations here are written out independently of directory/permissions.py, so a change to
the matrix that nobody meant shows up as a failing test, not as a silently different product.
"""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from directory.models import User, UserState
from directory.permissions import MATRIX, ROLE_RANKS, permitted
from directory.roles import ADMINISTRATOR, HELP_DESK, MANAGER, READ_ONLY, ROLE_ACTIONS, role_permissions
from insights.models import Event
from tests.factories import PASSWORD, TenantAdminFactory, UserFactory, UserGroupFactory, row_builders, row_in

pytestmark = pytest.mark.django_db

ROLES = (ADMINISTRATOR, MANAGER, HELP_DESK, READ_ONLY)
END_USER = "end user"
RANK = {END_USER: 0, READ_ONLY: 1, HELP_DESK: 2, MANAGER: 3, ADMINISTRATOR: 4}

# What each role may do to a user ranked strictly below it (to anyone else: nothing).
MAY = {
    ADMINISTRATOR: {
        "change_email",
        "new_password",
        "suspend",
        "reactivate",
        "add_to_group",
        "remove_from_group",
        "change_role",
        "remove_mfa",
        "delete",
    },
    MANAGER: {"change_email", "new_password", "suspend", "reactivate", "add_to_group", "remove_from_group"},
    HELP_DESK: {"change_email", "new_password", "suspend", "reactivate"},
    READ_ONLY: set(),
}
ATTEMPTS = sorted(MAY[ADMINISTRATOR])
# The matrix's name for each attempt, and the event a done (or refused) attempt writes.
ACTION_OF = {
    "change_email": ("change_profile", "user_update"),
    "new_password": ("set_password", "user_password_set"),
    "suspend": ("change_state", "user_suspend"),
    "reactivate": ("change_state", "user_reactivate"),
    "add_to_group": ("change_membership", "group_member_add"),
    "remove_from_group": ("change_membership", "group_member_remove"),
    "change_role": ("change_roles", "user_roles_update"),
    "remove_mfa": ("reset_mfa", "mfa_remove"),
    "delete": ("delete", "user_delete"),
}
BULK = {"suspend": "suspend_users", "reactivate": "reactivate_users", "add_to_group": "add_to_group"}
BULK["remove_from_group"] = "remove_from_group"
NEW_PASSWORD = "a-Fresh-passphrase-42"
CHANGELIST = reverse("admin:directory_user_changelist")


def role(name):
    return Group.objects.get(name=name)


def person(org, rank: str, **fields):
    if rank == END_USER:
        return UserFactory(organization=org, **fields)
    return TenantAdminFactory(organization=org, roles=[role(rank)], **fields)


# --- the table in code agrees with this one, and with the model permissions of the roles ---------


@pytest.mark.parametrize("actor_role", ROLES)
def test_permitted_is_exactly_the_table(org, actor_role):
    actor = person(org, actor_role)
    for target_rank in RANK:
        target = person(org, target_rank)
        for attempt in ATTEMPTS:
            action = ACTION_OF[attempt][0]
            expected = attempt in MAY[actor_role] and RANK[target_rank] < RANK[actor_role]
            assert permitted(actor=actor, action=action, target=target) is expected, (actor_role, target_rank, action)
        assert permitted(actor=actor, action="view", target=target)
    for action in MATRIX:
        assert not permitted(actor=actor, action=action, target=actor) or action == "view", action
    assert permitted(actor=actor, action="change_org_settings", organization=org) is (actor_role == ADMINISTRATOR)


def test_operators_rank_above_every_role_and_the_system_may_do_anything(org):
    operator = User.objects.create_superuser("ops@lanyard.test", "pw-ops-123456")
    top = person(org, ADMINISTRATOR)
    assert all(permitted(actor=operator, action=action, target=top) for action in MATRIX)
    assert all(permitted(actor=None, action=action, target=top) for action in MATRIX)


@pytest.mark.parametrize("role_name", ROLES)
def test_role_model_permissions_agree_with_the_matrix(role_name):
    """directory.roles (Django permissions per role) and directory.permissions must not drift apart."""
    held = {f"{p.content_type.app_label}.{p.codename}" for p in role_permissions(role_name, Permission.objects.all())}
    stored = {f"{p.content_type.app_label}.{p.codename}" for p in role(role_name).permissions.all()}
    assert held == stored  # the roles in the database are the definition (roles_sync ran after migrate)
    for action, rule in MATRIX.items():
        if rule.permission is None:
            continue
        may = ROLE_RANKS[role_name] >= ROLE_RANKS[rule.lowest_role]
        assert (rule.permission in held) is may, f"{role_name}: matrix says {action}={may}, roles say otherwise"
    assert ROLE_RANKS.keys() == ROLE_ACTIONS.keys()


# --- every admin page of every registered model, as each role ------------------------------------

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
VIEWS = ("changelist", "add", "change", "delete", "history")
# Admins narrower than their model permissions, on purpose (everything else follows the role's permissions).
NARROWER = {
    ("auth.Group", view): dict.fromkeys(ROLES, 403)
    for view in VIEWS  # role definitions: operators only
} | {
    ("directory.Organization", "add"): dict.fromkeys(ROLES, 403),  # operators add and remove tenants
    ("directory.Organization", "delete"): dict.fromkeys(ROLES, 403),
    ("insights.RetentionPolicy", "add"): dict.fromkeys(ROLES, 403),  # one per organization, made on first use
    ("provisioning.ProvisionedAccount", "add"): dict.fromkeys(ROLES, 403),  # made by provisioning, not by hand
    # Second factors are not a tenant model: every role sees them, only Administrators remove one (reset_mfa).
    **{("mfa.Authenticator", view): dict.fromkeys(ROLES, 200) for view in ("changelist", "change", "history")},
    ("mfa.Authenticator", "add"): dict.fromkeys(ROLES, 403),
    ("mfa.Authenticator", "delete"): {ADMINISTRATOR: 200, MANAGER: 403, HELP_DESK: 403, READ_ONLY: 403},
}


def expected_status(model, view, actor) -> int:
    special = NARROWER.get((model._meta.label, view))
    if special is not None:
        return special[actor.groups.get().name]
    opts = model._meta
    needed = {"add": ["add"], "delete": ["delete"]}.get(view, ["view", "change"])
    allowed = any(actor.has_perm(f"{opts.app_label}.{action}_{opts.model_name}") for action in needed)
    return 200 if allowed else 403


@pytest.mark.parametrize("role_name", ROLES)
@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_every_admin_page_answers_each_role_as_the_matrix_says(client, org, role_name, model, model_admin):
    row_builders()
    row = row_in(model, org)
    actor = person(org, role_name)
    client.force_login(actor)
    opts = model._meta
    for view in VIEWS:
        args = [] if view in ("changelist", "add") else [row.pk]
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args))
        assert response.status_code == expected_status(model, view, actor), f"{role_name} {opts.label} {view}"


@pytest.mark.parametrize("role_name", [HELP_DESK, READ_ONLY])
def test_view_only_roles_open_integration_pages(client, org, role_name):
    """Finding 9: the integration change page disabled a field that a view-only form does not have (500)."""
    from provisioning.models import Integration

    row_builders()
    integration = row_in(Integration, org)
    client.force_login(person(org, role_name))
    page = client.get(reverse("admin:provisioning_integration_change", args=[integration.pk]))
    assert page.status_code == 200
    assert integration.base_url in page.content.decode()


# --- every user action, as each role, on users of each rank ---------------------------------------


def form_data(client, url) -> dict:
    """What the browser would post back from the change page: the editable fields and their values."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(getattr(v, "pk", v)) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    if not data:  # a read-only page: post what an attacker would
        target = form.instance
        data = {"email": target.email, "username": target.username, "state": target.state}
    return data


def attempt_change(client, target, **changes):
    url = reverse("admin:directory_user_change", args=[target.pk])
    data = {**form_data(client, url), **changes}
    return client.post(url, data)


def try_attempt(client, attempt: str, target, org, actor):
    """Do one attempt through the admin as a person would; returns the response."""
    if attempt == "change_email":
        return attempt_change(client, target, email=f"renamed.{target.pk}@example.test")
    if attempt == "new_password":
        return attempt_change(client, target, new_password=NEW_PASSWORD)
    if attempt == "change_role":
        new_role = role(READ_ONLY if not target.groups.filter(name=READ_ONLY).exists() else HELP_DESK)
        return attempt_change(client, target, is_staff="on", groups=[str(new_role.pk)])
    if attempt == "delete":
        return client.post(reverse("admin:directory_user_delete", args=[target.pk]), {"post": "yes"})
    if attempt == "remove_mfa":
        authenticator = Authenticator.objects.get(user=target, type=Authenticator.Type.TOTP)
        return client.post(reverse("admin:mfa_authenticator_delete", args=[authenticator.pk]), {"post": "yes"})
    data = {"action": BULK[attempt], "_selected_action": [target.pk], "index": 0}
    if attempt in ("add_to_group", "remove_from_group"):
        data |= {"group": org.usergroup_set.get(name="Engineering").pk, "apply": "1"}
    return client.post(CHANGELIST, data)


def prepare(attempt, target, org):
    """Put the target in the state the attempt changes."""
    group = UserGroupFactory(organization=org, name="Engineering")
    if attempt == "reactivate":
        User.objects.filter(pk=target.pk).update(state=UserState.SUSPENDED)
    if attempt == "remove_from_group":
        group.members.add(target)
    if attempt == "remove_mfa":
        TOTP.activate(target, generate_totp_secret())
    target.refresh_from_db()
    return {
        "email": target.email,
        "password": target.password,
        "state": target.state,
        "roles": set(target.groups.values_list("name", flat=True)),
        "in_group": group.members.filter(pk=target.pk).exists(),
        "mfa": Authenticator.objects.filter(user=target).exists(),
    }


def observed(target, org):
    target = User.objects.filter(pk=target.pk).first()
    if target is None:
        return None
    return {
        "email": target.email,
        "password": target.password,
        "state": target.state,
        "roles": set(target.groups.values_list("name", flat=True)),
        "in_group": org.usergroup_set.get(name="Engineering").members.filter(pk=target.pk).exists(),
        "mfa": Authenticator.objects.filter(user=target).exists(),
    }


CHANGED = {
    "change_email": "email",
    "new_password": "password",
    "suspend": "state",
    "reactivate": "state",
    "add_to_group": "in_group",
    "remove_from_group": "in_group",
    "change_role": "roles",
    "remove_mfa": "mfa",
}
HIDDEN_ACTIONS = {  # bulk actions a role is not offered at all: Django refuses to run them
    role_name: {a for a in BULK if a not in MAY[role_name]} for role_name in ROLES
}


@pytest.mark.parametrize("attempt", ATTEMPTS)
@pytest.mark.parametrize("target_rank", list(RANK))
@pytest.mark.parametrize("actor_role", ROLES)
def test_user_admin_does_exactly_what_the_matrix_says(client, org, actor_role, target_rank, attempt):
    actor = person(org, actor_role, email="actor@org-a.test", username="actor")
    target = person(org, target_rank, email="target@org-a.test", username="target")
    before = prepare(attempt, target, org)
    client.force_login(actor)
    response = try_attempt(client, attempt, target, org, actor)
    assert response.status_code in (200, 302), response.status_code
    after = observed(target, org)
    event_type = ACTION_OF[attempt][1]
    events = Event.objects.filter(event_type=event_type, resource_id=str(target.pk), initiator_email=actor.email)
    allowed = attempt in MAY[actor_role] and RANK[target_rank] < RANK[actor_role]
    if allowed:
        assert response.status_code == 302
        if attempt == "delete":
            assert after is None
        else:
            assert after[CHANGED[attempt]] != before[CHANGED[attempt]], "not done"
        assert events.filter(success=True).exists() or (
            attempt in ("add_to_group", "remove_from_group")  # membership events are about the group
            and Event.objects.filter(event_type=event_type, success=True, message__contains=target.email).exists()
        )
        assert not Event.objects.filter(success=False).exists()
        return
    assert after == before, "a refused attempt changed something"
    if attempt in HIDDEN_ACTIONS[actor_role]:
        return  # the action is not offered to this role; Django runs nothing
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("cannot" in m for m in shown), shown
    refused = Event.objects.filter(success=False, initiator_email=actor.email)
    assert refused.filter(resource_id=str(target.pk)).exists() or refused.filter(resource_name=target.email).exists()
    assert NEW_PASSWORD not in "".join(Event.objects.values_list("message", flat=True))


@pytest.mark.parametrize("actor_role", ROLES)
def test_nobody_changes_their_own_role_password_or_account_in_the_admin(client, org, actor_role):
    actor = person(org, actor_role, email="self@org-a.test", username="self")
    password_before = actor.password
    client.force_login(actor)
    response = attempt_change(client, actor, is_staff="on", groups=[str(role(ADMINISTRATOR).pk)], new_password="x")
    assert response.status_code in (302, 403)
    actor.refresh_from_db()
    assert set(actor.groups.values_list("name", flat=True)) == {actor_role}
    assert actor.password == password_before
    response = client.post(reverse("admin:directory_user_delete", args=[actor.pk]), {"post": "yes"})
    assert User.objects.filter(pk=actor.pk).exists()


def test_help_desk_setting_an_administrators_password_is_refused(client, org):
    """Finding 1: a Help Desk admin set an Administrator's password, removed their TOTP and signed in as them."""
    helper = person(org, HELP_DESK)
    boss = person(org, ADMINISTRATOR, email="boss@org-a.test")
    TOTP.activate(boss, generate_totp_secret())
    client.force_login(helper)
    url = reverse("admin:directory_user_change", args=[boss.pk])
    takeover = {"email": "helper.inbox@example.test", "username": boss.username, "state": "active"}
    client.post(url, {**takeover, "new_password": NEW_PASSWORD})
    totp = Authenticator.objects.get(user=boss)
    client.post(reverse("admin:mfa_authenticator_delete", args=[totp.pk]), {"post": "yes"})
    boss.refresh_from_db()
    assert boss.email == "boss@org-a.test" and boss.check_password(PASSWORD) and not boss.check_password(NEW_PASSWORD)
    assert Authenticator.objects.filter(pk=totp.pk).exists()
    client.logout()
    assert not client.login(email="boss@org-a.test", password=NEW_PASSWORD)
    refusals = Event.objects.filter(success=False, initiator_email=helper.email, resource_id=str(boss.pk))
    assert {e.event_type for e in refusals} == {"user_update", "mfa_remove"}


def test_an_administrator_setting_password_1_is_refused_with_the_validators_sentence(client, org):
    """Finding 1: the admin's new-password field skipped AUTH_PASSWORD_VALIDATORS."""
    boss = person(org, ADMINISTRATOR)
    member = person(org, END_USER, email="member@org-a.test")
    client.force_login(boss)
    page = attempt_change(client, member, new_password="1")
    assert page.status_code == 200  # the form again, with the validators' sentences under the field
    html = page.content.decode()
    assert "This password is too short. It must contain at least 8 characters." in html
    assert "This password is entirely numeric." in html
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
    refusal = Event.objects.get(event_type="user_password_set", success=False)
    assert refusal.initiator_email == boss.email and "too short" in refusal.message
    assert not Event.objects.filter(event_type="user_password_set", success=True).exists()


def test_removing_a_second_factor_signs_the_user_out_of_every_browser(client, org):
    boss = person(org, ADMINISTRATOR)
    member = person(org, END_USER, email="member@org-a.test")
    TOTP.activate(member, generate_totp_secret())
    phone, laptop = Client(), Client()
    for browser in (phone, laptop):
        browser.force_login(member)
        assert browser.get(reverse("portal:home")).status_code == 200
    bystander = Client()
    bystander.force_login(person(org, END_USER))
    client.force_login(boss)
    totp = Authenticator.objects.get(user=member)
    response = client.post(reverse("admin:mfa_authenticator_delete", args=[totp.pk]), {"post": "yes"})
    assert response.status_code == 302
    for browser in (phone, laptop):
        page = browser.get(reverse("portal:home"))
        assert page.status_code == 302 and page.url.startswith(reverse("account_login"))
    assert bystander.get(reverse("portal:home")).status_code == 200  # nobody else is signed out
    event = Event.objects.get(event_type="mfa_remove", success=True)
    assert event.initiator_email == boss.email and "2 session(s) signed out" in event.message
