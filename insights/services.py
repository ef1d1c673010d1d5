"""Writing events. `record()` is the one way an event is written."""

from collections.abc import Iterable

from .context import current
from .models import Event

# Field names whose values never reach the log, whatever the caller passes.
SECRET_MARKERS = ("password", "token", "secret", "private_key", "api_key", "key_pem", "otp")
REDACTED = "[redacted]"


def _is_secret(field_name: str) -> bool:
    name = field_name.lower()
    return any(marker in name for marker in SECRET_MARKERS)


def changes_scrub(changes: Iterable[dict] | None) -> list[dict]:
    """Changes as [{field, from, to}], with secret values replaced by a marker."""
    cleaned = []
    for change in changes or []:
        entry = {"field": change["field"], "from": change.get("from"), "to": change.get("to")}
        if _is_secret(entry["field"]):
            entry["from"] = entry["to"] = REDACTED
        cleaned.append(_jsonable(entry))
    return cleaned


def _jsonable(entry: dict) -> dict:
    return {
        key: value if value is None or isinstance(value, bool | int | float | str | list) else str(value)
        for key, value in entry.items()
    }


def _snapshot(obj, *, kind: str | None = None) -> tuple[str, str, str]:
    """(type, id, name) of a model instance or an explicit dict."""
    if obj is None:
        return "", "", ""
    if isinstance(obj, dict):
        return str(obj.get("type", "")), str(obj.get("id", "")), str(obj.get("name", ""))[:255]
    type_name = kind or getattr(obj, "event_resource_type", obj._meta.model_name)
    return type_name, str(obj.pk or ""), str(obj)[:255]


def record(
    *,
    event_type: str,
    service: str,
    organization=None,
    success: bool = True,
    resource=None,
    actor=None,
    initiator: dict | None = None,
    message: str = "",
    changes: Iterable[dict] | None = None,
) -> Event:
    """Write one audit event; initiator, client and correlation id default to the bound context."""
    ctx = current()
    if initiator is not None:
        initiator_type, initiator_id, initiator_email = (
            initiator.get("type", ""),
            str(initiator.get("id", "")),
            initiator.get("email", ""),
        )
    else:
        who = actor if actor is not None else ctx.actor
        if who is not None:
            initiator_type = "admin" if getattr(who, "is_staff", False) else "user"
            initiator_id, initiator_email = str(who.pk), getattr(who, "email", "")
        else:
            initiator_type, initiator_id, initiator_email = ctx.initiator_type, "", ""
    resource_type, resource_id, resource_name = _snapshot(resource)
    return Event.objects.create(
        organization=organization,
        event_type=event_type,
        service=service,
        success=success,
        initiator_type=initiator_type,
        initiator_id=initiator_id,
        initiator_email=initiator_email,
        resource_type=resource_type,
        resource_id=resource_id,
        resource_name=resource_name,
        client_ip=ctx.client_ip,
        user_agent=ctx.user_agent,
        message=message,
        changes=changes_scrub(changes),
        correlation_id=ctx.correlation_id,
    )
