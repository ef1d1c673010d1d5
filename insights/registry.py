"""The event types Lanyard records: each app declares its own in `<app>/events.py` and registers them here.

The admin's filter list and the query API's validation read this registry, so a type exists once, next
to the code that records it. With EVENT_TYPES_STRICT on (tests, DEBUG), `record()` refuses a type no app
declared; in production an undeclared type is still written, since an audit event must never be lost.
"""

from collections.abc import Mapping

from django.conf import settings

_declared: dict[str, tuple[str, str]] = {}  # event type -> (app label, one-line description)


class UndeclaredEventType(LookupError):
    """A type recorded without being declared in any app's events.py."""


def event_types_register(*, app_label: str, types: Mapping[str, str]) -> None:
    """Declare an app's event types; a type claimed by two apps is a programming error."""
    for event_type, description in types.items():
        owner = _declared.get(event_type, (app_label, ""))[0]
        if owner != app_label:
            raise ValueError(f"Event type {event_type!r} is declared by both {owner} and {app_label}.")
        if len(event_type) > 64:
            raise ValueError(f"Event type {event_type!r} is longer than the 64 characters Event.event_type holds.")
        _declared[event_type] = (app_label, description)


def event_types() -> dict[str, str]:
    """Every declared type with its description, sorted by type."""
    return {name: _declared[name][1] for name in sorted(_declared)}


def event_type_owner(event_type: str) -> str | None:
    """The label of the app that declared a type, or None."""
    entry = _declared.get(event_type)
    return entry[0] if entry else None


def event_type_check(event_type: str) -> None:
    """Under EVENT_TYPES_STRICT, refuse a type no app declared (tests catch a missing declaration)."""
    if getattr(settings, "EVENT_TYPES_STRICT", False) and event_type not in _declared:
        raise UndeclaredEventType(
            f"Event type {event_type!r} is not declared: add it to the events.py of the app that records it."
        )
