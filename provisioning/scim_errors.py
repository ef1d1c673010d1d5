"""What can go wrong talking SCIM to an app, as types the reconciler decides on (not status codes).

A `TransientError` is worth trying again later (the network, an app that kept failing); a
`PermanentError` is not, with the same data. A `RefusedError` is the app answering a request
with an error status; its subtypes say which refusal it was. Every message is a sentence for an
admin; what really happened goes in `detail`, for the operators only.
"""

from typing import Any

from core.outbound import unreachable_sentence

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MAX_DETAIL_CHARS = 300


class ScimError(Exception):
    """A SCIM call that did not succeed; `permanent` errors are not worth retrying; `detail` is for operators."""

    permanent = False

    def __init__(self, message: str, *, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail


class TransientError(ScimError):
    """The app could not be reached or kept failing: the account stays dirty and is tried again later."""


class PermanentError(ScimError):
    """The app's answer will not change by asking again (not SCIM, or a refusal)."""

    permanent = True


class RefusedError(PermanentError):
    """The app answered with an error status."""


class UnauthorizedError(RefusedError):
    """HTTP 401 or 403: the token is refused, or lacks the permission."""


class NotFoundError(RefusedError):
    """HTTP 404: the app does not hold that resource (any more)."""


class ConflictError(RefusedError):
    """HTTP 409: the app already holds a resource with that userName or displayName."""


class UnsupportedError(RefusedError):
    """The app does not implement this request (HTTP 501, or a 400/405 naming the feature)."""


def error_for(
    status: int | None, body: Any, *, what: str, host: str, feature: str = "", unsupported: tuple[int, ...] = ()
) -> RefusedError:
    """The typed refusal for an answer with this status.

    `feature` names what a 400 or 405 may say is not supported ("patch"); `unsupported` lists the
    statuses that mean "not supported" for this request whatever the body says.
    """
    message = refusal_message(what, status=status, body=body, host=host)
    if status in (401, 403):
        return UnauthorizedError(message, status=status)
    if status == 404:
        return NotFoundError(message, status=status)
    if status == 409:
        return ConflictError(message, status=status)
    if status == 501 or status in unsupported or (feature and status in (400, 405) and body_mentions(body, feature)):
        return UnsupportedError(message, status=status)
    return RefusedError(message, status=status)


def refusal_message(what: str, *, status: int | None, body: Any, host: str) -> str:
    """A sentence telling an admin what the app answered and what to do next."""
    detail = error_detail(body)
    if status == 401:
        return (
            f"The app refused the API token when asked to {what} (HTTP 401{': ' + detail if detail else ''}). "
            "Re-authenticate with a valid token."
        )
    if status == 403:
        return (
            f"The app says the token may not {what} (HTTP 403{': ' + detail if detail else ''}). "
            "Give the token the SCIM permission, then try again."
        )
    if status == 404 and not detail:  # no SCIM Error: not told apart from any other address
        return unreachable_sentence(host)
    return f"The app refused to {what} (HTTP {status}{': ' + detail if detail else ''})."


def error_detail(body: Any) -> str:
    """The SP's own words from a SCIM Error message (RFC 7644 §3.12); nothing from any other body."""
    if not isinstance(body, dict) or ERROR_SCHEMA not in strings(body.get("schemas")):
        return ""
    words = next((body[k] for k in ("detail", "scimType") if isinstance(body.get(k), str) and body[k].strip()), "")
    words = " ".join(words.split())
    return words[:MAX_DETAIL_CHARS] + ("…" if len(words) > MAX_DETAIL_CHARS else "")


def strings(value: Any) -> list[str]:
    """The strings of a JSON list (anything else reads as empty)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def body_mentions(body: Any, word: str) -> bool:
    """Whether an error body's text fields mention a word (to recognise "PATCH not supported" answers)."""
    if not isinstance(body, dict):
        return False
    return any(isinstance(v, str) and word.lower() in v.lower() for v in body.values())
