"""The query API: list, count and export events of the caller's organization."""

import csv
import json
from collections.abc import Iterator

from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from . import registry, selectors
from .authentication import ApiAuthError, api_caller
from .selectors import EVENT_FIELDS, Cursor, QueryError

EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _error(status: int, message: str, parameter: str | None = None) -> JsonResponse:
    body = {"error": message}
    if parameter:
        body["parameter"] = parameter
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="lanyard-insights"'
    return response


def _api(view):
    """Authenticate, parse the query, and turn known failures into JSON 4xx responses."""

    def wrapped(request, *args, **kwargs):
        try:
            caller = api_caller(request)
            query = selectors.event_query_parse(params=request.GET)
            return view(request, caller, query)
        except ApiAuthError as exc:
            return _error(exc.status, exc.message)
        except QueryError as exc:
            return _error(400, exc.message, exc.parameter)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return require_GET(wrapped)


@_api
def events_list(request, caller, query):
    """GET /api/insights/events: one page of events, newest first, with the next page's cursor."""
    limit = selectors.page_limit_parse(params=request.GET)
    cursor = Cursor.decode(request.GET["cursor"]) if request.GET.get("cursor") else None
    events, next_cursor = selectors.events_page(
        organization_id=caller.organization_id, query=query, cursor=cursor, limit=limit
    )
    return JsonResponse({"events": events, "next_cursor": next_cursor.encode() if next_cursor else None})


@_api
def events_count(request, caller, query):
    """GET /api/insights/events/count: how many events match the query."""
    return JsonResponse({"count": selectors.events_count(organization_id=caller.organization_id, query=query)})


def _csv_cell(value) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Line:
    """A file-like sink for csv.writer that hands back the line it was given."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(EVENT_FIELDS)
    for row in rows:
        yield writer.writerow([_csv_cell(row[name]) for name in EVENT_FIELDS])


def _jsonl_lines(rows: Iterator[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(selectors.event_as_json(row), separators=(",", ":")) + "\n"


def _batched(lines: Iterator[str], size: int = 500) -> Iterator[bytes]:
    """Group lines into larger writes: one chunk per line makes the WSGI server do a syscall per row."""
    buffer = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= size:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


@_api
def events_export(request, caller, query):
    """GET /api/insights/events/export?format=csv|jsonl: every matching event, streamed."""
    export_format = request.GET.get("format", "jsonl")
    if export_format not in EXPORT_FORMATS:
        return _error(400, "format must be csv or jsonl.", "format")
    rows = selectors.events_iter(organization_id=caller.organization_id, query=query)
    lines = _csv_lines(rows) if export_format == "csv" else _jsonl_lines(rows)
    response = StreamingHttpResponse(_batched(lines), content_type=EXPORT_FORMATS[export_format])
    response["Content-Disposition"] = f'attachment; filename="events.{export_format}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def event_types_list(request):
    """GET /api/insights/event-types: every type Lanyard records, with the app that declares it and what it means."""
    try:
        api_caller(request)
    except ApiAuthError as exc:
        return _error(exc.status, exc.message)
    return JsonResponse(
        {
            "event_types": [
                {"event_type": name, "app": registry.event_type_owner(name), "description": description}
                for name, description in registry.event_types().items()
            ]
        }
    )
