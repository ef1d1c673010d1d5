"""Reading events: the query language of the API and export, keyset pages, and per-object recent events.

Every query is scoped to one organization and to a time range, ordered newest first by
(timestamp, id), and served by one of the Event indexes that end in (timestamp, id).
"""

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from . import registry
from .models import Event, Service
from .text import text_is_storable

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
EXPORT_CHUNK = 2000
MAX_CURSOR_CHARS = 200  # a real cursor is about 60 characters
MAX_MOMENT_CHARS = 64
MAX_EVENT_ID = 2**63 - 1  # the id column is a bigint
# start and end are kept within what Python (and so the database adapter) can represent in UTC.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
_LIMIT = re.compile(r"[0-9]{1,4}")  # ASCII digits only: str.isdigit() also accepts "²", which int() refuses

# The API's field names, in the order the CSV export writes its columns.
EVENT_FIELDS = (
    "id",
    "timestamp",
    "event_type",
    "service",
    "success",
    "initiator_type",
    "initiator_id",
    "initiator_email",
    "resource_type",
    "resource_id",
    "resource_name",
    "client_ip",
    "user_agent",
    "message",
    "changes",
    "correlation_id",
)
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class QueryError(ValueError):
    """A query parameter the API cannot use; `parameter` names it for the 400 response."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class EventQuery:
    """A parsed, validated event query (everything but the organization and the page)."""

    start: datetime
    end: datetime | None = None
    services: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    initiator: str = ""
    resource_type: str = ""
    resource_id: str = ""
    resource_name: str = ""
    success: bool | None = None
    text: str = ""


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first order: the last (timestamp, id) a page returned."""

    timestamp: datetime
    id: int

    def encode(self) -> str:
        """The opaque string clients pass back as `cursor`."""
        raw = json.dumps([self.timestamp.isoformat(), self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """Read a cursor a previous page returned; QueryError if it is not one."""
        try:
            if len(value) > MAX_CURSOR_CHARS:
                raise ValueError(value)
            padded = value + "=" * (-len(value) % 4)
            stamp, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
            moment = datetime.fromisoformat(stamp)
            if moment.tzinfo is None or type(pk) is not int or not 0 < pk <= MAX_EVENT_ID:
                raise ValueError(value)
            moment = moment.astimezone(UTC)  # overflows for a moment at the very ends of the calendar
        except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError) as exc:
            raise QueryError("cursor", "cursor is not one this API returned; start again without it.") from exc
        return cls(timestamp=moment, id=pk)


def _utc(moment: datetime) -> datetime:
    """An aware moment in UTC; one whose offset would carry it past year 1 or 9999 is held at that end."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return EARLIEST if moment.year == EARLIEST.year else LATEST


def _moment(name: str, value: str) -> datetime:
    """An ISO 8601 date or date-time as an aware datetime in UTC (UTC when no offset is given)."""
    value = value.strip()
    try:
        if len(value) > MAX_MOMENT_CHARS:
            raise ValueError(value)
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = datetime.combine(day, time.min) if isinstance(day, date) else None
    except ValueError:
        moment = None
    if moment is None:
        raise QueryError(name, f"{name} must be an ISO 8601 date or date-time, such as 2026-01-31T09:00:00Z.")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return _utc(moment)


def _many(params, name: str) -> tuple[str, ...]:
    """A parameter given several times and/or comma-separated, as a tuple of non-empty values."""
    values = []
    for raw in params.getlist(name):
        values.extend(part.strip() for part in raw.split(","))
    return tuple(dict.fromkeys(v for v in values if v))


def event_query_parse(*, params) -> EventQuery:
    """Validate the API's query parameters (a QueryDict); QueryError names the first bad one."""
    for name, values in params.lists():
        if not all(text_is_storable(value) for value in values):
            shown = name if text_is_storable(name) and len(name) <= 64 else "a parameter"
            raise QueryError(
                shown, f"{shown} contains a NUL or other character that cannot be searched for; remove it."
            )
    if not params.get("start"):
        raise QueryError("start", "start is required: give the beginning of the time range in ISO 8601.")
    start = _moment("start", params["start"])
    end = _moment("end", params["end"]) if params.get("end") else None
    if end is not None and end <= start:
        raise QueryError("end", "end must be later than start.")
    services = _many(params, "service")
    unknown = [s for s in services if s not in Service.values]
    if unknown:
        raise QueryError("service", f"service must be one of {', '.join(Service.values)}; got {unknown[0]}.")
    event_types = _many(params, "event_type")
    if any(len(t) > 64 for t in event_types):
        raise QueryError("event_type", "event_type values are at most 64 characters long.")
    if len(event_types) > 50:
        raise QueryError("event_type", "Give at most 50 event_type values.")
    declared = registry.event_types()
    undeclared = [t for t in event_types if t not in declared]
    if undeclared:
        raise QueryError(
            "event_type",
            f"{undeclared[0]} is not a Lanyard event type; GET /api/insights/event-types lists them.",
        )
    success = None
    if params.get("success"):
        flag = params["success"].strip().lower()
        if flag not in _TRUE | _FALSE:
            raise QueryError("success", "success must be true or false.")
        success = flag in _TRUE
    resource_type = params.get("resource_type", "").strip()
    resource_id = params.get("resource_id", "").strip()
    if resource_id and not resource_type:
        raise QueryError("resource_type", "resource_type is required with resource_id (for example user).")
    for name, limit in (("initiator", 254), ("resource_type", 32), ("resource_id", 64), ("resource_name", 255)):
        if len(params.get(name, "")) > limit:
            raise QueryError(name, f"{name} is at most {limit} characters long.")
    text = params.get("q", "").strip()
    if len(text) > 200:
        raise QueryError("q", "q is at most 200 characters long.")
    return EventQuery(
        start=start,
        end=end,
        services=services,
        event_types=event_types,
        initiator=params.get("initiator", "").strip(),
        resource_type=resource_type,
        resource_id=resource_id,
        resource_name=params.get("resource_name", "").strip(),
        success=success,
        text=text,
    )


def page_limit_parse(*, params) -> int:
    """The `limit` parameter: 1 to MAX_LIMIT, DEFAULT_LIMIT when absent."""
    raw = params.get("limit")
    if not raw:
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise QueryError("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def events_filter(*, organization_id: int, query: EventQuery) -> QuerySet:
    """The organization's events matching a query, newest first; no other organization's row can match."""
    if organization_id is None:  # never "organization IS NULL": platform events are nobody's tenant data
        return Event.objects.none()
    events = Event.objects.filter(organization_id=organization_id, timestamp__gte=query.start)
    if query.end is not None:
        events = events.filter(timestamp__lt=query.end)
    if query.services:
        events = events.filter(service__in=query.services)
    if len(query.event_types) == 1:
        events = events.filter(event_type=query.event_types[0])
    elif query.event_types:
        events = events.filter(event_type__in=query.event_types)
    if query.initiator:
        lookup = "initiator_email" if "@" in query.initiator else "initiator_id"
        value = query.initiator.lower() if lookup == "initiator_email" else query.initiator
        events = events.filter(**{lookup: value})
    if query.resource_type:
        events = events.filter(resource_type=query.resource_type)
    if query.resource_id:
        events = events.filter(resource_id=query.resource_id)
    if query.resource_name:
        events = events.filter(resource_name=query.resource_name)
    if query.success is not None:
        events = events.filter(success=query.success)
    if query.text:
        events = events.filter(
            Q(message__icontains=query.text)
            | Q(resource_name__icontains=query.text)
            | Q(initiator_email__icontains=query.text)
        )
    return events.order_by("-timestamp", "-id")


def _after(events: QuerySet, cursor: Cursor | None) -> QuerySet:
    """Rows strictly older than the cursor in (timestamp, id) order; the <= bound keeps the index range tight."""
    if cursor is None:
        return events
    return events.filter(timestamp__lte=cursor.timestamp).filter(
        Q(timestamp__lt=cursor.timestamp) | Q(timestamp=cursor.timestamp, id__lt=cursor.id)
    )


def events_page(
    *, organization_id: int, query: EventQuery, cursor: Cursor | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[dict], Cursor | None]:
    """One page of events as API dicts, and the cursor of the next page (None on the last one).

    Keyset paging: events recorded while a client pages are newer than its cursor and never shift
    or repeat the rows it has still to read.
    """
    rows = list(
        _after(events_filter(organization_id=organization_id, query=query), cursor).values(*EVENT_FIELDS)[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(timestamp=rows[-1]["timestamp"], id=rows[-1]["id"]) if more else None
    return [event_as_json(row) for row in rows], next_cursor


def events_count(*, organization_id: int, query: EventQuery) -> int:
    """How many events match the query (an index-only count of the matching range)."""
    return events_filter(organization_id=organization_id, query=query).order_by().count()


def events_iter(*, organization_id: int, query: EventQuery, chunk_size: int | None = None) -> Iterator[dict]:
    """Every matching event as a row dict, newest first, read in keyset chunks so memory stays flat."""
    chunk_size = chunk_size or EXPORT_CHUNK
    cursor = None
    while True:
        events = _after(events_filter(organization_id=organization_id, query=query), cursor)
        rows = list(events.values(*EVENT_FIELDS)[:chunk_size])
        yield from rows
        if len(rows) < chunk_size:
            return
        cursor = Cursor(timestamp=rows[-1]["timestamp"], id=rows[-1]["id"])


def event_as_json(row: dict) -> dict:
    """An event row (from `.values(*EVENT_FIELDS)`) in the API's JSON shape."""
    return {
        "id": row["id"],
        "timestamp": row["timestamp"].isoformat(),
        "event_type": row["event_type"],
        "service": row["service"],
        "success": row["success"],
        "initiated_by": {"type": row["initiator_type"], "id": row["initiator_id"], "email": row["initiator_email"]},
        "resource": {"type": row["resource_type"], "id": row["resource_id"], "name": row["resource_name"]},
        "client_ip": row["client_ip"],
        "user_agent": row["user_agent"],
        "message": row["message"],
        "changes": row["changes"],
        "correlation_id": row["correlation_id"],
    }


def events_for_resource(*, organization_id: int, resource_type: str, resource_id, limit: int = 20) -> list[Event]:
    """The latest events about one object (a user, an application, an integration), newest first."""
    if organization_id is None:
        return []
    return list(
        Event.objects.filter(
            organization_id=organization_id, resource_type=resource_type, resource_id=str(resource_id)
        ).order_by("-timestamp", "-id")[:limit]
    )
