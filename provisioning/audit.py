"""Recording what provisioning did: insights events about an integration, its accounts and its requests."""

from directory.models import User
from insights.models import Service
from insights.services import outbound_failure_record, record

from .models import Integration, ProvisionedAccount
from .scim_answers import Attempt


def event_record(
    event_type: str,
    *,
    integration: Integration,
    success: bool = True,
    message: str = "",
    resource=None,
    actor: User | None = None,
    changes=None,
) -> None:
    """Record a SCIM event of this integration's organization (about the integration unless `resource`)."""
    record(
        event_type=event_type,
        service=Service.SCIM,
        organization=integration.application.organization,
        resource=resource if resource is not None else integration,
        success=success,
        message=message,
        actor=actor,
        changes=changes,
    )


def outbound_failed(integration: Integration, detail: str) -> None:
    """Keep what really went wrong talking to the app for the operators (the admin sees only a sentence)."""
    if detail:
        outbound_failure_record(
            service=Service.SCIM,
            organization=integration.application.organization,
            resource={"type": "integration", "id": integration.pk or "", "name": str(integration)},
            detail=detail,
        )


def account_resource(account: ProvisionedAccount) -> dict:
    """The event resource for an account: its user, also once the user is deleted."""
    user_id = account.user_id or account.user_snapshot.get("id", "")
    return {"type": "user", "id": user_id, "name": account.email}


def attempt_recorder(integration: Integration):
    """An on_attempt callback that writes an event for failed attempts (successes get their own event)."""

    def on_attempt(attempt: Attempt) -> None:
        if attempt.detail:  # no usable answer: the organization reads one sentence, the operators the detail
            outbound_failed(integration, attempt.detail)
            message = f"{attempt.method} {attempt.path}: {attempt.message}"
        elif attempt.status is not None and attempt.status < 400:
            return
        else:
            message = f"{attempt.method} {attempt.path}: HTTP {attempt.status}" + (
                f" — {attempt.message}" if attempt.message else ""
            )
        event_record(
            "scim_request",
            integration=integration,
            success=False,
            resource={"type": "integration", "id": integration.pk, "name": str(integration)},
            message=message + ("" if attempt.final else " (will retry)"),
        )

    return on_attempt
