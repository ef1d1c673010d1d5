"""Writes to the directory. Each service records an insights event and sends a domain signal."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from insights.models import Service
from insights.services import record

from . import signals
from .models import Organization, User, UserGroup, UserState

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


@transaction.atomic
def organization_update(*, organization: Organization, actor: User | None = None, data: dict) -> Organization:
    """Change an organization's settings (its name, whether MFA is required)."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    unknown = set(data) - set(ORGANIZATION_SETTINGS)
    if unknown:
        raise ValidationError(f"Unknown organization setting(s): {', '.join(sorted(unknown))}.")
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


@transaction.atomic
def user_create(
    *,
    organization: Organization,
    email: str,
    actor: User | None = None,
    password: str | None = None,
    state: str = UserState.ACTIVE,
    **attributes,
) -> User:
    """Add a user to an organization's directory."""
    unknown = set(attributes) - set(USER_ATTRIBUTES)
    if unknown:
        raise ValidationError(f"Unknown user attribute(s): {', '.join(sorted(unknown))}.")
    if not attributes.get("username"):
        attributes["username"] = email.strip().lower().split("@")[0]
    user = User(organization=organization, email=email, state=state, **attributes)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
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


@transaction.atomic
def user_update(*, user: User, actor: User | None = None, data: dict) -> User:
    """Change a user's attributes (and state, which is delegated to suspend/reactivate)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    new_state = data.pop("state", None)
    unknown = set(data) - set(USER_ATTRIBUTES)
    if unknown:
        raise ValidationError(f"Unknown user attribute(s): {', '.join(sorted(unknown))}.")
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


@transaction.atomic
def user_state_set(*, user: User, state: str, actor: User | None = None) -> User:
    """Move a user to staged, active or suspended.

    Suspension also ends their sessions: the auth backend refuses inactive users on every request.
    """
    if state not in UserState.values:
        raise ValidationError(f"“{state}” is not a user state. Use staged, active or suspended.")
    user = User.objects.select_for_update().get(pk=user.pk)
    old = user.state
    if old == state:
        return user
    user.state = state
    user.save(update_fields=["state"])
    event_type = {UserState.SUSPENDED: "user_suspend", UserState.ACTIVE: "user_reactivate"}.get(state, "user_update")
    if state == UserState.ACTIVE and old == UserState.STAGED:
        event_type = "user_activate"
    _record(
        event_type,
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


@transaction.atomic
def user_delete(*, user: User, actor: User | None = None) -> None:
    """Remove a user from the directory (apps are told before the row goes)."""
    signals.user_deleting.send(sender=User, user=user)
    _record("user_delete", organization=user.organization, resource=user, actor=actor)
    user.delete()


@transaction.atomic
def user_set_password(*, user: User, password: str, actor: User | None = None) -> User:
    """Set a user's password (the value itself is never logged)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    _record(
        "user_password_set",
        organization=user.organization,
        resource=user,
        actor=actor,
        changes=[{"field": "password", "from": None, "to": None}],
    )
    return user


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
    """Delete a group; its members lose whatever the group gave them."""
    members = list(group.members.all())
    if members:
        group_members_remove(group=group, users=members, actor=actor)
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


@transaction.atomic
def group_members_add(*, group: UserGroup, users: Iterable[User], actor: User | None = None) -> list[User]:
    """Add users to a group; returns the ones that were not members yet."""
    users = _same_organization(group, users)
    current = set(group.members.filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True))
    added = [u for u in users if u.pk not in current]
    if not added:
        return []
    group.members.add(*added)
    for user in added:
        _record(
            "group_member_add",
            organization=group.organization,
            resource=group,
            actor=actor,
            message=f"{user.email} added to {group.name}",
            changes=[{"field": "members", "from": None, "to": user.email}],
        )
    signals.membership_changed.send(sender=UserGroup, group=group, users=added, added=True)
    return added


@transaction.atomic
def group_members_remove(*, group: UserGroup, users: Iterable[User], actor: User | None = None) -> list[User]:
    """Remove users from a group; returns the ones that were members."""
    users = list(users)
    current = set(group.members.filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True))
    removed = [u for u in users if u.pk in current]
    if not removed:
        return []
    group.members.remove(*removed)
    for user in removed:
        _record(
            "group_member_remove",
            organization=group.organization,
            resource=group,
            actor=actor,
            message=f"{user.email} removed from {group.name}",
            changes=[{"field": "members", "from": user.email, "to": None}],
        )
    signals.membership_changed.send(sender=UserGroup, group=group, users=removed, added=False)
    return removed


@transaction.atomic
def group_members_set(*, group: UserGroup, users: Iterable[User], actor: User | None = None) -> None:
    """Make a group's members exactly these users."""
    wanted = {u.pk: u for u in _same_organization(group, users)}
    current = {u.pk: u for u in group.members.all()}
    group_members_remove(group=group, users=[u for pk, u in current.items() if pk not in wanted], actor=actor)
    group_members_add(group=group, users=[u for pk, u in wanted.items() if pk not in current], actor=actor)


@transaction.atomic
def user_roles_set(*, user: User, roles: Iterable, actor: User | None = None) -> None:
    """Give a tenant admin exactly these admin roles (Django groups)."""
    wanted = {role.pk: role for role in roles}
    current = {role.pk: role for role in user.groups.all()}
    if wanted.keys() == current.keys():
        return
    user.groups.set(wanted.values())
    _record(
        "user_roles_update",
        organization=user.organization,
        resource=user,
        actor=actor,
        changes=[
            {
                "field": "roles",
                "from": sorted(r.name for r in current.values()),
                "to": sorted(r.name for r in wanted.values()),
            }
        ],
    )
