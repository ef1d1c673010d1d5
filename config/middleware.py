"""Request hygiene: input that no view could store or search for is refused before any view sees it."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

from insights import context
from insights.middleware import client_ip_from
from insights.models import Service
from insights.services import record
from insights.text import text_is_storable, text_storable

NAME_SHOWN_CHARS = 64


def _shown(name: str) -> str:
    """A parameter name as it may appear in a sentence: cleaned and short."""
    return text_storable(name)[:NAME_SHOWN_CHARS]


def _service_of(path: str) -> str:
    if path.startswith("/saml2/"):
        return Service.SSO
    if path.startswith(("/admin/", "/api/")):
        return Service.ADMIN
    return Service.PORTAL


def _unusable_part(request) -> str | None:
    """Where the request carries a character PostgreSQL cannot hold (the path, a field), or None."""
    if not text_is_storable(request.path_info):
        return "The address"
    for source, params in (("query string", request.GET), ("form", request.POST)):
        for name, values in params.lists():
            if not text_is_storable(name):
                return f"A {source} parameter name"
            if not all(text_is_storable(value) for value in values):
                return f"The {source} parameter “{_shown(name)}”"
    return None


class RequestHygieneMiddleware:
    """Answer 400 with a sentence for input no view could store: a NUL in the path or a field, an unreadable body.

    A NUL (or another character PostgreSQL text cannot hold) in the path, the query string or a form
    field is refused here, as is a body too large or malformed to read. Without it every view would have
    to check every parameter before it reaches a query or a write: on PostgreSQL a NUL there is a database
    error, so a 500. Cookies holding such characters are dropped rather than refused, so a browser that
    carries a broken cookie is not locked out. It runs before the session middleware, which would
    otherwise look up a session key with a NUL in it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name in [n for n, v in request.COOKIES.items() if not (text_is_storable(n) and text_is_storable(v))]:
            del request.COOKIES[name]
        try:
            part = _unusable_part(request)
        except RequestDataTooBig:
            return self._refuse(request, "The request is larger than this server accepts. Send less data at once.")
        except TooManyFieldsSent:
            return self._refuse(request, "The request has more fields than this server accepts. Send fewer at once.")
        except MultiPartParserError:
            return self._refuse(request, "The request's form data could not be read. Send it again from the page.")
        if part is not None:
            return self._refuse(
                request, f"{part} contains a NUL or another character that cannot be used. Remove it and try again."
            )
        return self.get_response(request)

    def _refuse(self, request, sentence: str) -> HttpResponse:
        path = text_storable(request.path_info)
        # An operator event: the tenant is not known yet (the session is read after this middleware).
        with context.bind(
            client_ip=client_ip_from(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            actor=None,
            initiator_type="anonymous",
        ):
            record(
                event_type="request_refused",
                service=_service_of(path),
                success=False,
                resource={"type": "request", "id": request.method, "name": path},
                message=sentence,
            )
        if path.startswith("/api/"):
            return JsonResponse({"error": sentence}, status=400)
        return HttpResponse(sentence, status=400, content_type="text/plain; charset=utf-8")
