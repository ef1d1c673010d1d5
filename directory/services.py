"""Writes to the directory. Each service records an insights event and sends a domain signal.

Every service that acts for an admin (`actor`) first asks the permission matrix (directory.permissions)
and refuses before it writes anything; the refusal's failed event is recorded outside the service's
own transaction, so it stays. `actor=None` is the system (jobs, demo seeding).
"""

from collections.abc import Iterable

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from insights.models import Service
from insights.services import record

from . import signals
from .models import Organization, User, UserGroup, UserState
from .permissions import Refused, permission_check, rank_forget, role_grant_check

# Directory attributes an admin (or an import) may set on a user.
USER_ATTRIBUTES = (
    "email",
    "username",
    "first_name",
    "last_name",
    "display_name",
    "department",
    "job_title",
    "employee_id",
    "phone",
    "description",
    "is_staff",
)


# Organization settings a tenant's Administrators may change.
ORGANIZATION_SETTINGS = ("name", "require_mfa")
ORGANIZATION_CREATED = ("name", "slug", "require_mfa")  # what the organization_create event shows


def _record(event_type: str, *, organization, resource, actor=None, success=True, message="", changes=None):
    return record(
        event_type=event_type,
        service=Service.DIRECTORY,
        organization=organization,
        resource=resource,
        actor=actor,
        success=success,
        message=message,
        changes=changes,
    )


def _fresh(user: User) -> User:
    """The user as stored: the matrix judges the target's stored role, never an instance a form has changed."""
    return User.objects.select_related("organization").get(pk=user.pk)


def _operator_check(*, actor: User | None, what: str, event_type: str, organization, resource) -> None:
    """Platform-level changes are for operators (superusers) only; a refusal is recorded and said."""
    if actor is None or actor.is_superuser:
        return
    message = f"Only a platform operator can {what}; ask one to do it."
    _record(event_type, organization=organization, resource=resource, actor=actor, success=False, message=message)
    raise Refused(message)


def organization_create(*, name: str, slug: str, require_mfa: bool = False, actor: User | None = None) -> Organization:
    """Add a tenant: platform operators only."""
    _operator_check(
        actor=actor,
        what="add an organization",
        event_type="organization_create",
        organization=None,
        resource={"type": "organization", "id": "", "name": name},
    )
    organization = Organization(name=name, slug=slug, require_mfa=require_mfa)
    organization.full_clean()
    with transaction.atomic():
        organization.save()
        _record(
            "organization_create",
            organization=organization,
            resource=organization,
            actor=actor,
            changes=[
                {"field": f, "from": None, "to": getattr(organization, f)} for f in ("name", "slug", "require_mfa")
            ],
        )
    return organization


def organization_update(*, organization: Organization, actor: User | None = None, data: dict) -> Organization:
    """Change an organization's settings (its name, whether MFA is required): Administrators only."""
    unknown = set(data) - set(ORGANIZATION_SETTINGS)
    if unknown:
        raise ValidationError(f"Unknown organization setting(s): {', '.join(sorted(unknown))}.")
    permission_check(actor=actor, action="change_org_settings", organization=organization)
    with transaction.atomic():
        return _organization_update(organization=organization, actor=actor, data=data)


def _organization_update(*, organization: Organization, actor: User | None, data: dict) -> Organization:
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    changes = []
    for field, value in data.items():
        if getattr(organization, field) != value:
            changes.append({"field": field, "from": getattr(organization, field), "to": value})
            setattr(organization, field, value)
    if changes:
        organization.full_clean()
        organization.save()
        _record("organization_update", organization=organization, resource=organization, actor=actor, changes=changes)
    return organization


def user_create(
    *,
    organization: Organization,
    email: str,
    actor: User | None = None,
    password: str | None = None,
    state: str = UserState.ACTIVE,
    **attributes,
) -> User:
    """Add a user to an organization's directory (a tenant admin only by an Administrator)."""
    unknown = set(attributes) - set(USER_ATTRIBUTES)
    if unknown:
        raise ValidationError(f"Unknown user attribute(s): {', '.join(sorted(unknown))}.")
    permission_check(actor=actor, action="create", organization=organization)
    if attributes.get("is_staff"):
        permission_check(actor=actor, action="change_roles", organization=organization, event_type="user_create")
    if not attributes.get("username"):
        attributes["username"] = email.strip().lower().split("@")[0]
    user = User(organization=organization, email=email, state=state, **attributes)
    if password:
        user_password_validate(user=user, password=password, actor=actor)
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.full_clean(exclude=["password"])
        user.save()
        _record(
            "user_create",
            organization=organization,
            resource=user,
            actor=actor,
            changes=[{"field": f, "from": None, "to": getattr(user, f)} for f in ("email", "username", "state")],
        )
        signals.user_changed.send(sender=User, user=user, changed_fields={"created"})
    return user


def user_update(*, user: User, actor: User | None = None, data: dict) -> User:
    """Change a user's attributes (and state, which is delegated to suspend/reactivate)."""
    new_state = data.pop("state", None)
    unknown = set(data) - set(USER_ATTRIBUTES)
    if unknown:
        raise ValidationError(f"Unknown user attribute(s): {', '.join(sorted(unknown))}.")
    stored = _fresh(user)
    changed = {field for field, value in data.items() if getattr(stored, field) != value}
    if changed - {"is_staff"}:
        permission_check(actor=actor, action="change_profile", target=stored)
    if "is_staff" in changed:
        permission_check(actor=actor, action="change_roles", target=stored, event_type="user_update")
    if new_state and new_state != stored.state:
        event_type = _state_event(stored.state, new_state)
        permission_check(actor=actor, action="change_state", target=stored, event_type=event_type)
    with transaction.atomic():
        updated = _user_update(user=user, actor=actor, data=data, new_state=new_state)
    rank_forget(user)
    return updated


def _user_update(*, user: User, actor: User | None, data: dict, new_state: str | None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    changes = []
    for field, value in data.items():
        old = getattr(user, field)
        if old != value:
            changes.append({"field": field, "from": old, "to": value})
            setattr(user, field, value)
    if changes:
        user.full_clean(exclude=["password"])
        user.save()
        _record("user_update", organization=user.organization, resource=user, actor=actor, changes=changes)
        signals.user_changed.send(sender=User, user=user, changed_fields={c["field"] for c in changes})
    if new_state and new_state != user.state:
        user = user_state_set(user=user, state=new_state, actor=actor)
    return user


def _state_event(old: str, new: str) -> str:
    if new == UserState.ACTIVE and old == UserState.STAGED:
        return "user_activate"
    return {UserState.SUSPENDED: "user_suspend", UserState.ACTIVE: "user_reactivate"}.get(new, "user_update")


def user_state_set(*, user: User, state: str, actor: User | None = None) -> User:
    """Move a user to staged, active or suspended.

    Suspension also ends their sessions: the auth backend refuses inactive users on every request.
    """
    if state not in UserState.values:
        raise ValidationError(f"“{state}” is not a user state. Use staged, active or suspended.")
    stored = _fresh(user)
    if stored.state == state:
        return stored
    permission_check(actor=actor, action="change_state", target=stored, event_type=_state_event(stored.state, state))
    with transaction.atomic():
        return _user_state_set(user=stored, state=state, actor=actor)


def _user_state_set(*, user: User, state: str, actor: User | None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    old = user.state
    if old == state:
        return user
    user.state = state
    user.save(update_fields=["state"])
    _record(
        _state_event(old, state),
        organization=user.organization,
        resource=user,
        actor=actor,
        changes=[{"field": "state", "from": old, "to": state}],
    )
    signals.user_changed.send(sender=User, user=user, changed_fields={"state"})
    return user


def user_suspend(*, user: User, actor: User | None = None) -> User:
    """Suspend a user: no sign-in anywhere, deprovisioned from every app."""
    return user_state_set(user=user, state=UserState.SUSPENDED, actor=actor)


def user_reactivate(*, user: User, actor: User | None = None) -> User:
    """Return a suspended or staged user to active."""
    return user_state_set(user=user, state=UserState.ACTIVE, actor=actor)


def user_delete(*, user: User, actor: User | None = None) -> None:
    """Remove a user from the directory (apps are told before the row goes): Administrators only."""
    permission_check(actor=actor, action="delete", target=_fresh(user))
    with transaction.atomic():
        signals.user_deleting.send(sender=User, user=user)
        _record("user_delete", organization=user.organization, resource=user, actor=actor)
        user.delete()


def user_password_validate(*, user: User, password: str, actor: User | None = None) -> None:
    """Refuse (and record) a password that fails AUTH_PASSWORD_VALIDATORS, judged against this user's attributes."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        _record(
            "user_password_set",
            organization=user.organization,
            resource=user,
            actor=actor,
            success=False,
            message=f"Refused: {' '.join(exc.messages)}",  # the validators' sentences, never the password
        )
        raise ValidationError(exc.messages) from None


def user_set_password(*, user: User, password: str, actor: User | None = None) -> User:
    """Set a user's password after the validators accept it (the value itself is never logged).

    A new password also signs the user out everywhere: Django checks each session against a hash
    of the stored password on every request.
    """
    stored = _fresh(user)
    permission_check(actor=actor, action="set_password", target=stored)
    user_password_validate(user=stored, password=password, actor=actor)
    with transaction.atomic():
        stored.set_password(password)
        stored.save(update_fields=["password"])
        _record(
            "user_password_set",
            organization=stored.organization,
            resource=stored,
            actor=actor,
            changes=[{"field": "password", "from": None, "to": None}],
        )
    user.password = stored.password
    return stored


@transaction.atomic
def group_create(
    *, organization: Organization, name: str, description: str = "", actor: User | None = None
) -> UserGroup:
    """Create a user group in an organization."""
    group = UserGroup(organization=organization, name=name, description=description)
    group.full_clean()
    group.save()
    _record("group_create", organization=organization, resource=group, actor=actor)
    return group


@transaction.atomic
def group_update(*, group: UserGroup, actor: User | None = None, data: dict) -> UserGroup:
    """Rename a group or change its description."""
    changes = []
    for field in ("name", "description"):
        if field in data and getattr(group, field) != data[field]:
            changes.append({"field": field, "from": getattr(group, field), "to": data[field]})
            setattr(group, field, data[field])
    if changes:
        group.full_clean()
        group.save()
        _record("group_update", organization=group.organization, resource=group, actor=actor, changes=changes)
    return group


@transaction.atomic
def group_delete(*, group: UserGroup, actor: User | None = None) -> None:
    """Delete a group; its members lose whatever the group gave them.

    Deleting a group is a decision about the group (the delete_usergroup permission: Administrators),
    not about one member, so its members are removed whatever their rank.
    """
    members = list(group.members.all())
    if members:
        _members_remove(group=group, users=members, actor=actor)
    _record("group_delete", organization=group.organization, resource=group, actor=actor)
    group.delete()


def _same_organization(group: UserGroup, users: Iterable[User]) -> list[User]:
    users = list(users)
    foreign = [u.email for u in users if u.organization_id != group.organization_id]
    if foreign:
        raise ValidationError(
            f"{', '.join(foreign)} cannot join “{group.name}”: a group can only hold users of its own organization."
        )
    return users


def _membership_check(actor: User | None, users: list[User], event_type: str) -> None:
    for user in users:
        permission_check(actor=actor, action="change_membership", target=user, event_type=event_type)


def _members_of(group: UserGroup, users: list[User]) -> set[int]:
    return set(group.members.filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True))


def group_members_add(*, group: UserGroup, users: Iterable[User], actor: User | None = None) -> list[User]:
    """Add users to a group; returns the ones that were not members yet."""
    users = _same_organization(group, users)
    current = _members_of(group, users)
    added = [u for u in users if u.pk not in current]
    _membership_check(actor, added, "group_member_add")
    with transaction.atomic():
        return _members_add(group=group, users=added, actor=actor)


def _members_add(*, group: UserGroup, users: list[User], actor: User | None) -> list[User]:
    if not users:
        return []
    group.members.add(*users)
    for user in users:
        _record(
            "group_member_add",
            organization=group.organization,
            resource=group,
            actor=actor,
            message=f"{user.email} added to {group.name}",
            changes=[{"field": "members", "from": None, "to": user.email}],
        )
    signals.membership_changed.send(sender=UserGroup, group=group, users=users, added=True)
    return users


def group_members_remove(*, group: UserGroup, users: Iterable[User], actor: User | None = None) -> list[User]:
    """Remove users from a group; returns the ones that were members."""
    users = list(users)
    current = _members_of(group, users)
    removed = [u for u in users if u.pk in current]
    _membership_check(actor, removed, "group_member_remove")
    with transaction.atomic():
        return _members_remove(group=group, users=removed, actor=actor)


def _members_remove(*, group: UserGroup, users: list[User], actor: User | None) -> list[User]:
    if not users:
        return []
    group.members.remove(*users)
    for user in users:
        _record(
            "group_member_remove",
            organization=group.organization,
            resource=group,
            actor=actor,
            message=f"{user.email} removed from {group.name}",
            changes=[{"field": "members", "from": user.email, "to": None}],
        )
    signals.membership_changed.send(sender=UserGroup, group=group, users=users, added=False)
    return users


def group_members_set(*, group: UserGroup, users: Iterable[User], actor: User | None = None) -> None:
    """Make a group's members exactly these users (refused whole if one of the changes is not the actor's to make)."""
    wanted = {u.pk: u for u in _same_organization(group, users)}
    current = {u.pk: u for u in group.members.all()}
    leaving = [u for pk, u in current.items() if pk not in wanted]
    joining = [u for pk, u in wanted.items() if pk not in current]
    _membership_check(actor, leaving, "group_member_remove")
    _membership_check(actor, joining, "group_member_add")
    with transaction.atomic():
        _members_remove(group=group, users=leaving, actor=actor)
        _members_add(group=group, users=joining, actor=actor)


def user_roles_set(*, user: User, roles: Iterable, actor: User | None = None) -> None:
    """Give a tenant admin exactly these admin roles (Django groups): Administrators, never above their own role."""
    stored = _fresh(user)
    wanted = {role.pk: role for role in roles}
    current = {role.pk: role for role in stored.groups.all()}
    if wanted.keys() == current.keys():
        return
    role_grant_check(actor=actor, target=stored, roles=wanted.values())
    with transaction.atomic():
        stored.groups.set(wanted.values())
        _record(
            "user_roles_update",
            organization=stored.organization,
            resource=stored,
            actor=actor,
            changes=[
                {
                    "field": "roles",
                    "from": sorted(r.name for r in current.values()),
                    "to": sorted(r.name for r in wanted.values()),
                }
            ],
        )
    rank_forget(user)


def user_superuser_set(*, user: User, is_superuser: bool, actor: User | None = None) -> User:
    """Make a user a platform operator (superuser) or not: operators only."""
    stored = _fresh(user)
    _operator_check(
        actor=actor,
        what="change who is a platform operator",
        event_type="user_superuser_update",
        organization=stored.organization,
        resource=stored,
    )
    if stored.is_superuser == is_superuser:
        return stored
    with transaction.atomic():
        User.objects.filter(pk=stored.pk).update(is_superuser=is_superuser)
        _record(
            "user_superuser_update",
            organization=stored.organization,
            resource=stored,
            actor=actor,
            changes=[{"field": "is_superuser", "from": stored.is_superuser, "to": is_superuser}],
        )
    rank_forget(user)
    stored.is_superuser = is_superuser
    return stored
