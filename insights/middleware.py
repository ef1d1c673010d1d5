"""Binds the request's event context (IP, user agent, actor, correlation id)."""

import ipaddress

from django.conf import settings

from . import context


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip_from(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry added by our own trusted proxies.

    `TRUSTED_PROXY_COUNT` (a setting, default 0) is how many proxies in front of Lanyard append
    to X-Forwarded-For; entries further left were written by the client and cannot be trusted.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return _valid_ip(forwarded[-proxies])
    return _valid_ip(request.META.get("REMOTE_ADDR") or "")


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
