"""Binds the request's event context (IP, user agent, actor, correlation id)."""

from . import context


def client_ip_from(request) -> str | None:
    """The client's address as the web server saw it."""
    return request.META.get("REMOTE_ADDR") or None


class EventContextMiddleware:
    """Every event recorded while serving a request shares its correlation id and client."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with context.bind(
            client_ip=client_ip_from(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            actor=actor,
            initiator_type=("admin" if actor.is_staff else "user") if actor else "anonymous",
        ):
            return self.get_response(request)
