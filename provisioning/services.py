"""Writes for an app's SCIM integration: configure, activate, change URL or token, deactivate, delete, lift quarantine.

The rest of provisioning lives beside it, one concern a module: marking.py (directory changes mark
accounts dirty), batches.py and reconcile.py (sending them), client.py and scim_client.py (talking
SCIM), groups.py, sweep.py, importing.py, mapping.py and audit.py.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.url_policy import url_check
from directory.errors import error_sentence
from directory.models import User

from .audit import event_record, outbound_failed
from .client import integration_client
from .marking import integration_full_sync
from .models import Integration, IntegrationStatus
from .scim_errors import RefusedError, ScimError, UnauthorizedError


def integration_probe(*, integration: Integration, base_url: str, token: str) -> dict:
    """Ask the app whether this URL and token work; return its capabilities or raise ValidationError in plain words.

    Only a SCIM answer counts: anything else reads "could not reach the app" (the detail goes to the
    operators' event), so the probe cannot be used to tell closed ports, other services and SCIM apps apart.
    """
    url_check(base_url, field="SCIM base URL")
    client = integration_client(integration=integration, attempts=2, base_url=base_url, token=token)
    try:
        with client:
            try:
                spc = client.service_provider_config()
            except UnauthorizedError as exc:
                raise ValidationError(exc.message) from exc
            except RefusedError:
                spc = {}  # optional in practice: the capabilities then come from the catalog alone
            try:
                users = client.users_page(count=1)
            except UnauthorizedError as exc:
                raise ValidationError(exc.message) from exc
            except RefusedError as exc:  # any other refusal reads "could not reach", like a non-SCIM answer
                outbound_failed(integration, exc.detail)
                raise ValidationError(client.unreachable) from exc
            client.resources(users, what="GET /Users")
    except ScimError as exc:  # unreachable, not SCIM, or failing: all read the same (see the docstring)
        outbound_failed(integration, exc.detail or exc.message)
        raise ValidationError(client.unreachable) from exc
    scim = integration.application.catalog_entry.scim
    operations = list(scim.get("users") or [])
    return {
        "users": operations,
        "delete": "delete" in operations,
        "groups": bool(scim.get("groups")),
        "patch": bool((spc.get("patch") or {}).get("supported", False)),
        "filter": bool((spc.get("filter") or {}).get("supported", False)),
        "max_results": (spc.get("filter") or {}).get("maxResults"),
        "bulk": bool((spc.get("bulk") or {}).get("supported", False)),
        "bulk_max_operations": (spc.get("bulk") or {}).get("maxOperations"),
        "service_provider_config": bool(spc),
    }


def integration_check_change(
    *, integration: Integration, base_url: str, token: str, actor: User | None = None
) -> dict | None:
    """Before saving a new URL or token of a running integration, check them against the app.

    Records the refusal (idm_integration_update or idm_integration_reauth) and raises ValidationError
    in plain words; returns the app's capabilities, or None when nothing needed checking.
    """
    url_changed = base_url != integration.base_url
    if url_changed:
        try:
            url_check(base_url, field="SCIM base URL")
            _token_required(token)
        except ValidationError as exc:
            message = error_sentence(exc)
            event_record("idm_integration_update", integration=integration, actor=actor, success=False, message=message)
            raise
    if integration.status == IntegrationStatus.INACTIVE:
        return None
    token_changed = bool(token) and token != integration.token
    if not url_changed and not token_changed:
        return None
    try:
        # a changed URL is only ever probed with the token typed in the same change, never the stored one
        return integration_probe(integration=integration, base_url=base_url, token=token or integration.token)
    except ValidationError as exc:
        event_type = "idm_integration_reauth" if token_changed else "idm_integration_update"
        event_record(event_type, integration=integration, actor=actor, success=False, message=exc.messages[0])
        raise


def _token_required(token: str) -> None:
    """A new SCIM base URL comes with the token typed again, so the stored token never goes to a new host."""
    if not token:
        raise ValidationError(
            {
                "token": "Enter the app's API token again to change the SCIM base URL: Lanyard never sends "
                "the stored token to a new address."
            }
        )


def integration_configure(
    *, application, base_url: str, token: str, actor: User | None = None, rate_limit: int | None = None
) -> Integration:
    """Save an app's SCIM URL and token without contacting the app (the integration's status is left as it is)."""
    if not application.catalog_entry.supports_scim:
        raise ValidationError(f"“{application}” does not support SCIM provisioning.")
    _token_required(token)
    integration = Integration.objects.filter(application=application).first() or Integration(application=application)
    integration.base_url, integration.token = base_url, token
    if rate_limit:
        integration.rate_limit = rate_limit
    integration.full_clean()
    integration.save()
    event_record(
        "idm_integration_update",
        integration=integration,
        actor=actor,
        message="SCIM URL and token saved (not active yet).",
        changes=[{"field": "base_url", "from": None, "to": base_url}, {"field": "token", "from": None, "to": "set"}],
    )
    return integration


def integration_activate(*, integration: Integration, actor: User | None = None) -> Integration:
    """Verify the URL and token against the app, then turn provisioning on and sync everyone in scope."""
    try:
        capabilities = integration_probe(
            integration=integration, base_url=integration.base_url, token=integration.token
        )
    except ValidationError as exc:
        event_record(
            "idm_integration_activate", integration=integration, actor=actor, success=False, message=exc.messages[0]
        )
        raise
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        old = integration.status
        integration.status = IntegrationStatus.ACTIVE
        integration.capabilities = capabilities
        integration.activated_at = timezone.now()
        integration.consecutive_failures = 0
        integration.quarantined_at = None
        integration.last_error = ""
        integration.save()
        event_record(
            "idm_integration_activate",
            integration=integration,
            actor=actor,
            message=f"Provisioning to {integration.application} is active.",
            changes=[{"field": "status", "from": old, "to": IntegrationStatus.ACTIVE}],
        )
        integration_full_sync(integration=integration, actor=None, record_event=False)
    return integration


def integration_update_url(
    *, integration: Integration, base_url: str, token: str, actor: User | None = None, verified: bool = False
) -> Integration:
    """Point the integration at a new SCIM base URL with its token entered again (checked with the app when active)."""
    old = integration.base_url
    try:
        url_check(base_url, field="SCIM base URL")
        _token_required(token)
        if integration.status != IntegrationStatus.INACTIVE and not verified:
            integration.capabilities = integration_probe(integration=integration, base_url=base_url, token=token)
    except ValidationError as exc:
        event_record(
            "idm_integration_update", integration=integration, actor=actor, success=False, message=error_sentence(exc)
        )
        raise
    integration.base_url, integration.token = base_url, token
    integration.full_clean()
    integration.save()
    event_record(
        "idm_integration_update",
        integration=integration,
        actor=actor,
        message="SCIM base URL changed; the API token was entered again with it.",
        changes=[{"field": "base_url", "from": old, "to": base_url}, {"field": "token", "from": "old", "to": "new"}],
    )
    return integration


def integration_reauthenticate(
    *, integration: Integration, token: str, actor: User | None = None, verified: bool = False
) -> Integration:
    """Replace the API token, after checking the new one against the app when provisioning is on."""
    if not token:
        raise ValidationError("Paste the new API token.")
    if integration.status != IntegrationStatus.INACTIVE and not verified:
        try:
            integration_probe(integration=integration, base_url=integration.base_url, token=token)
        except ValidationError as exc:
            event_record(
                "idm_integration_reauth", integration=integration, actor=actor, success=False, message=exc.messages[0]
            )
            raise
    integration.token = token
    integration.save()
    event_record(
        "idm_integration_reauth",
        integration=integration,
        actor=actor,
        message="API token replaced.",
        changes=[{"field": "token", "from": "old", "to": "new"}],
    )
    return integration


def integration_deactivate(*, integration: Integration, actor: User | None = None) -> Integration:
    """Stop provisioning to the app; accounts there are left as they are."""
    old = integration.status
    integration.status = IntegrationStatus.INACTIVE
    integration.save(update_fields=["status"])
    event_record(
        "idm_integration_delete",
        integration=integration,
        actor=actor,
        message=f"Provisioning to {integration.application} is off; accounts in the app were left as they are.",
        changes=[{"field": "status", "from": old, "to": IntegrationStatus.INACTIVE}],
    )
    return integration


def integration_delete(*, integration: Integration, actor: User | None = None) -> None:
    """Remove the integration (token included); accounts in the app are left as they are."""
    event_record(
        "idm_integration_delete",
        integration=integration,
        actor=actor,
        message=f"SCIM integration of {integration.application} removed.",
    )
    integration.delete()


def integration_quarantine_lift(*, integration: Integration, actor: User | None = None) -> Integration:
    """Let a quarantined integration talk to the app again, and run a full sync to send what piled up."""
    with transaction.atomic():
        old = integration.status
        integration.status = IntegrationStatus.ACTIVE
        integration.consecutive_failures = 0
        integration.quarantined_at = None
        integration.save(update_fields=["status", "consecutive_failures", "quarantined_at"])
        event_record(
            "idm_integration_update",
            integration=integration,
            actor=actor,
            message="Quarantine lifted; a full sync sends what piled up.",
            changes=[{"field": "status", "from": old, "to": IntegrationStatus.ACTIVE}],
        )
        integration_full_sync(integration=integration, actor=actor, record_event=False)
    return integration
