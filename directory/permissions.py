"""The permission matrix: which admin role may do what, and to whom. The admin and the services both read it.

Roles rank Administrator > Manager > Help Desk > Read Only > end user (not staff, or staff with no
role); platform operators (superusers) rank above everyone. A role may do an action when it is at
least the action's lowest role, and then only to users whose rank is strictly below its own: nobody
acts on a peer, a superior or themselves. `actor=None` is the system (jobs, demo seeding): allowed.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError

from insights.models import Service
from insights.services import record

from .roles import ADMINISTRATOR, HELP_DESK, MANAGER, READ_ONLY

END_USER_RANK = 0
ROLE_RANKS = {READ_ONLY: 1, HELP_DESK: 2, MANAGER: 3, ADMINISTRATOR: 4}
OPERATOR_RANK = 5
RANK_NAMES = {END_USER_RANK: "end user", **{rank: role for role, rank in ROLE_RANKS.items()}, OPERATOR_RANK: "operator"}

# What an action applies to: any user, users strictly below the actor, the actor's organization.
ANY_USER, BELOW, ORGANIZATION = "any user", "users below", "organization"


@dataclass(frozen=True)
class Rule:
    """One row of the matrix: the lowest role allowed, on whom, and how a refusal reads and is recorded."""

    lowest_role: str
    applies_to: str
    verb: str  # completes "You cannot …" with {whom}
    event_type: str
    permission: str | None = None  # the model permission directory.roles gives the same roles
    service: str = Service.DIRECTORY


MATRIX: dict[str, Rule] = {
    "view": Rule(READ_ONLY, ANY_USER, "view {whom}", "user_view", "directory.view_user"),
    "create": Rule(MANAGER, ORGANIZATION, "add users to {whom}", "user_create", "directory.add_user"),
    "change_profile": Rule(HELP_DESK, BELOW, "change the profile of {whom}", "user_update", "directory.change_user"),
    "set_password": Rule(HELP_DESK, BELOW, "set the password of {whom}", "user_password_set", "directory.change_user"),
    "change_state": Rule(HELP_DESK, BELOW, "suspend or reactivate {whom}", "user_update", "directory.change_user"),
    "change_membership": Rule(
        MANAGER, BELOW, "change the group memberships of {whom}", "group_member_add", "directory.change_usergroup"
    ),
    "reset_mfa": Rule(ADMINISTRATOR, BELOW, "remove the second factors of {whom}", "mfa_remove", None, Service.PORTAL),
    "change_roles": Rule(ADMINISTRATOR, BELOW, "change the admin role of {whom}", "user_roles_update"),
    "delete": Rule(ADMINISTRATOR, BELOW, "delete {whom}", "user_delete", "directory.delete_user"),
    "change_org_settings": Rule(
        ADMINISTRATOR,
        ORGANIZATION,
        "change the settings of {whom}",
        "organization_update",
        "directory.change_organization",
    ),
}


class Refused(PermissionDenied, ValidationError):
    """A refusal by the matrix: a PermissionDenied (403) that forms and imports also report as a sentence."""

    def __init__(self, message: str):
        ValidationError.__init__(self, message)


def role_rank(user) -> int:
    """A user's rank: operator, their highest admin role when they are staff, else end user."""
    cached = getattr(user, "_role_rank", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        rank = OPERATOR_RANK
    elif not user.is_staff or user.pk is None:
        rank = END_USER_RANK
    else:
        prefetched = getattr(user, "_prefetched_objects_cache", {}).get("groups")
        names = [g.name for g in prefetched] if prefetched is not None else user.groups.values_list("name", flat=True)
        rank = max((ROLE_RANKS.get(name, END_USER_RANK) for name in names), default=END_USER_RANK)
    user._role_rank = rank  # read once per loaded instance; services load targets afresh
    return rank


def rank_forget(user) -> None:
    """Drop the rank cached on an instance whose roles or staff flag just changed."""
    user.__dict__.pop("_role_rank", None)


def _with_article(name: str) -> str:
    return f"an {name}" if name[0].lower() in "aeiou" else f"a {name}"


def refusal_reason(*, actor, action: str, target=None, organization=None) -> str | None:
    """Why the matrix refuses `actor` doing `action` (to `target` or in `organization`), or None when it allows it."""
    rule = MATRIX[action]
    if actor is None:
        return None
    if not actor.is_active:
        return "Your account is not active. Ask an Administrator to reactivate it."
    actor_rank = role_rank(actor)
    if actor_rank < ROLE_RANKS[rule.lowest_role]:
        whom = "the organization" if rule.applies_to == ORGANIZATION else "users"
        return (
            f"Your admin role ({RANK_NAMES[actor_rank]}) cannot {rule.verb.format(whom=whom)}. "
            "Ask an Administrator of your organization."
        )
    scope = target.organization_id if target is not None else getattr(organization, "pk", None)
    if actor_rank != OPERATOR_RANK and scope is not None and scope != actor.organization_id:
        return "That belongs to another organization; you can act only in your own."
    if target is None or rule.applies_to == ANY_USER:
        return None
    target_rank = role_rank(target)
    helper = "an Administrator" if target_rank < ROLE_RANKS[ADMINISTRATOR] else "a platform operator"
    if target.pk == actor.pk:
        return f"You cannot {rule.verb.format(whom='your own account')}. Ask {helper} to do it."
    if target_rank >= actor_rank:
        return (
            f"You cannot {rule.verb.format(whom=target.email)}: they are {_with_article(RANK_NAMES[target_rank])}, "
            f"and your role ({RANK_NAMES[actor_rank]}) acts only on users below it. Ask {helper} to do it."
        )
    return None


def permitted(*, actor, action: str, target=None, organization=None) -> bool:
    """Whether the matrix lets `actor` do `action` (for the admin's buttons, fields and actions; records nothing)."""
    return refusal_reason(actor=actor, action=action, target=target, organization=organization) is None


def permission_check(*, actor, action: str, target=None, organization=None, event_type: str = "") -> None:
    """Raise Refused with a sentence, and record a failed event, unless the matrix lets `actor` do `action`."""
    reason = refusal_reason(actor=actor, action=action, target=target, organization=organization)
    if reason is None:
        return
    refusal_record(
        actor=actor, action=action, reason=reason, target=target, organization=organization, event_type=event_type
    )
    raise Refused(reason)


def refusal_record(*, actor, action: str, reason: str, target=None, organization=None, event_type: str = "") -> None:
    """Record a refused attempt as a failed event (never with a secret: the reason is one of the sentences above)."""
    rule = MATRIX[action]
    organization = organization or getattr(target, "organization", None) or getattr(actor, "organization", None)
    record(
        event_type=event_type or rule.event_type,
        service=rule.service,
        organization=organization,
        resource=target if target is not None else organization,
        actor=actor,
        success=False,
        message=f"Refused: {reason}",
    )


def role_grant_check(*, actor, target, roles) -> None:
    """Refuse (and record) giving `target` these roles unless `actor` may change their role and holds each one."""
    permission_check(actor=actor, action="change_roles", target=target)
    if actor is None:
        return
    actor_rank = role_rank(actor)
    above = sorted(role.name for role in roles if ROLE_RANKS.get(role.name, OPERATOR_RANK) > actor_rank)
    if above:
        reason = (
            f"You cannot grant the {', '.join(above)} role: it is above your own ({RANK_NAMES[actor_rank]}). "
            "Ask a platform operator."
        )
        refusal_record(actor=actor, action="change_roles", reason=reason, target=target)
        raise Refused(reason)
