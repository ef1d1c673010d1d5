"""Reads for provisioning: who is in an app's scope and what an account should look like."""

from django.db.models import QuerySet

from directory.models import User, UserState

from .models import Integration, IntegrationStatus

# Integrations that hear directory changes (an inactive one syncs everyone when activated).
LISTENING = (IntegrationStatus.ACTIVE, IntegrationStatus.FAILING, IntegrationStatus.QUARANTINED)


def users_in_scope(*, integration: Integration) -> QuerySet[User]:
    """Directory users who should have an account in the app: members of a group bound to it."""
    application = integration.application
    return User.objects.filter(
        organization_id=application.organization_id, user_groups__applications=application
    ).distinct()


def user_in_scope(*, integration: Integration, user: User) -> bool:
    """Whether this user is a member of a group bound to the app."""
    return users_in_scope(integration=integration).filter(pk=user.pk).exists()


def integrations_listening(*, organization_id: int) -> QuerySet[Integration]:
    """The organization's integrations that provision directory changes."""
    return Integration.objects.filter(application__organization_id=organization_id, status__in=LISTENING)


def attribute_map(*, integration: Integration) -> dict[str, str]:
    """SCIM attribute path → directory attribute, from the catalog."""
    return dict(
        integration.application.catalog_entry.scim.get("attributes") or {"userName": "email", "active": "active"}
    )


def user_payload(*, integration: Integration, user: User) -> dict:
    """The mapped attributes to send for a user, flat (SCIM path → value); empty values left out."""
    payload: dict = {}
    for path, source in attribute_map(integration=integration).items():
        if source == "active":
            value = user.state == UserState.ACTIVE
        else:
            value = getattr(user, source, "")
        if path == "emails":
            value = [{"value": value, "type": "work", "primary": True}] if value else None
        if value is None or value == "":
            continue
        payload[path] = value
    payload.setdefault("active", user.state == UserState.ACTIVE)
    return payload


def remote_payload(*, integration: Integration, remote: dict) -> dict:
    """A remote user read back into the same flat shape as `user_payload`, to compare the two."""
    payload: dict = {}
    for path in attribute_map(integration=integration):
        value = remote
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if path == "emails" and isinstance(value, list):
            value = [
                {"value": e.get("value"), "type": e.get("type", "work"), "primary": bool(e.get("primary"))}
                for e in value
                if isinstance(e, dict)
            ] or None
        if value is None or value == "":
            continue
        payload[path] = value
    payload.setdefault("active", bool(remote.get("active", True)))
    return payload
