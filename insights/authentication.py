"""Who is calling the query API: a tenant admin's session or an organization API key."""

from dataclasses import dataclass

from . import services

VIEW_PERMISSION = "insights.view_event"


class ApiAuthError(Exception):
    """The request may not use the API; `status` is 401 (who are you?) or 403 (not allowed)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ApiCaller:
    """The organization whose events a request may read, and how it proved it."""

    organization_id: int
    via: str  # "api_key" or "session"
    label: str


def api_caller(request) -> ApiCaller:
    """Authenticate an API request by `Authorization: Bearer <key>` or by the admin session."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != "bearer" or not raw_key.strip():
            raise ApiAuthError(401, "Send the API key as “Authorization: Bearer <key>”.")
        api_key = services.api_key_authenticate(raw_key=raw_key.strip())
        if api_key is None:
            raise ApiAuthError(401, "This API key is unknown or revoked. Create a new key in the admin.")
        return ApiCaller(organization_id=api_key.organization_id, via="api_key", label=str(api_key))
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise ApiAuthError(401, "Sign in to the admin or send an API key as “Authorization: Bearer <key>”.")
    if not (user.is_active and user.is_staff and user.organization_id):
        raise ApiAuthError(403, "Only tenant admins of an organization can read its events.")
    if not user.has_perm(VIEW_PERMISSION):
        raise ApiAuthError(403, "Your admin role does not allow viewing events. Ask an Administrator.")
    return ApiCaller(organization_id=user.organization_id, via="session", label=user.email)
