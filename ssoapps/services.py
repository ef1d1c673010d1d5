"""Writes to SSO applications."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from directory.models import User, UserGroup
from insights.models import Service
from insights.services import record

from . import signals
from .models import Application


@transaction.atomic
def application_groups_bind(
    *, application: Application, groups: Iterable[UserGroup], actor: User | None = None
) -> list[UserGroup]:
    """Authorize user groups for an application; returns the newly bound ones."""
    groups = list(groups)
    foreign = [g.name for g in groups if g.organization_id != application.organization_id]
    if foreign:
        raise ValidationError(
            f"{', '.join(foreign)} belong(s) to another organization and cannot be authorized for “{application}”."
        )
    current = set(application.authorized_groups.values_list("pk", flat=True))
    added = [g for g in groups if g.pk not in current]
    if not added:
        return []
    application.authorized_groups.add(*added)
    for group in added:
        record(
            event_type="application_group_bind",
            service=Service.SSO,
            organization=application.organization,
            resource=application,
            actor=actor,
            message=f"{group.name} authorized for {application.label}",
            changes=[{"field": "authorized_groups", "from": None, "to": group.name}],
        )
    signals.group_authorization_changed.send(sender=Application, application=application, groups=added, bound=True)
    return added


@transaction.atomic
def application_groups_unbind(
    *, application: Application, groups: Iterable[UserGroup], actor: User | None = None
) -> list[UserGroup]:
    """Withdraw user groups' authorization for an application; returns the ones that were bound."""
    groups = list(groups)
    current = set(application.authorized_groups.values_list("pk", flat=True))
    removed = [g for g in groups if g.pk in current]
    if not removed:
        return []
    application.authorized_groups.remove(*removed)
    for group in removed:
        record(
            event_type="application_group_unbind",
            service=Service.SSO,
            organization=application.organization,
            resource=application,
            actor=actor,
            message=f"{group.name} no longer authorized for {application.label}",
            changes=[{"field": "authorized_groups", "from": group.name, "to": None}],
        )
    signals.group_authorization_changed.send(sender=Application, application=application, groups=removed, bound=False)
    return removed
