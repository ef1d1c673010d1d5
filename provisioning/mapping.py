"""Mapping between a directory user and the SCIM user an app holds, by the catalog's attribute map.

Payloads are flat (SCIM path → value, e.g. "name.givenName"), so what the directory wants and what
the app last held compare key by key; `nested` turns one into a SCIM body.
"""

from directory.models import User, UserState

from .models import Integration


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


def nested(flat: dict) -> dict:
    """{"name.givenName": "A"} → {"name": {"givenName": "A"}} for POST and PUT bodies."""
    result: dict = {}
    for path, value in flat.items():
        parts = path.split(".")
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return result


def text(value) -> str:
    """A string attribute of a remote user; anything else (a hostile or odd app's answer) reads as empty."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def remote_email(remote: dict) -> str:
    """A remote user's email: the primary one, else the first, else a userName that is an address."""
    entries = remote.get("emails") if isinstance(remote.get("emails"), list) else []
    emails = [e for e in entries if isinstance(e, dict) and text(e.get("value"))]
    primary = next((e for e in emails if e.get("primary") is True), emails[0] if emails else None)
    if primary:
        return text(primary["value"]).lower()
    username = text(remote.get("userName"))
    return username.lower() if "@" in username else ""


def remote_emails(remote: dict) -> list[str]:
    """Every email address of a remote user, lowercased (to match a directory user by any of them)."""
    entries = remote.get("emails") if isinstance(remote.get("emails"), list) else []
    return [str(e["value"]).lower() for e in entries if isinstance(e, dict) and e.get("value")]
