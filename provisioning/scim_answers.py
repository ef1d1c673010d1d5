"""What a SCIM app answered: one exchange's status and body, one attempt for the audit log, a listing's resources."""

from dataclasses import dataclass
from typing import Any

from .scim_errors import strings

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@dataclass
class ScimResult:
    """One finished SCIM exchange: HTTP status and JSON body (None when empty)."""

    status: int
    body: Any


@dataclass
class Attempt:
    """One HTTP attempt, reported to the caller's `on_attempt` (for audit events)."""

    method: str
    path: str
    status: int | None
    message: str
    final: bool
    detail: str = ""  # what really happened, for operators (never a body, never the token)


def list_resources(body: Any) -> list[dict]:
    """The resources of a SCIM ListResponse body; raises ValueError when the body is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("Resources", []), list):
        raise ValueError("the answer is not a SCIM ListResponse")
    if LIST_SCHEMA not in strings(body.get("schemas")) and total_results(body) is None:
        raise ValueError("the answer is JSON without the ListResponse schema or a totalResults count")
    return [r for r in body.get("Resources") or [] if isinstance(r, dict) and isinstance(r.get("id"), str | int)]


def total_results(body: dict) -> int | None:
    """A ListResponse's totalResults, when it is a usable count."""
    total = body.get("totalResults")
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None
