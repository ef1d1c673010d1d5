"""Writing events (`record()` is the one way an event is written), API keys and retention pruning."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .context import current
from .models import DEFAULT_RETENTION_DAYS, ApiKey, Event, RetentionPolicy, Service
from .registry import event_type_check
from .text import json_storable, text_storable

# Field names whose values never reach the log, whatever the caller passes.
SECRET_MARKERS = (
    "password",
    "passwd",
    "token",
    "secret",
    "private_key",
    "api_key",
    "key_pem",
    "otp",
    "credential",
    "authorization",
    "cookie",
    "recovery_code",
    "key_hash",
)
REDACTED = "[redacted]"
MAX_MESSAGE_CHARS = 4000  # an app's error body is logged, not stored whole


def _is_secret(field_name: str) -> bool:
    name = field_name.lower()
    return any(marker in name for marker in SECRET_MARKERS)


def changes_scrub(changes: Iterable[dict] | None) -> list[dict]:
    """Changes as [{field, from, to}], with secret values replaced by a marker."""
    cleaned = []
    for change in changes or []:
        entry = {"field": change["field"], "from": change.get("from"), "to": change.get("to")}
        if _is_secret(entry["field"]):
            entry["from"] = entry["to"] = REDACTED
        cleaned.append(json_storable(_jsonable(entry)))
    return cleaned


def _jsonable(entry: dict) -> dict:
    return {
        key: value if value is None or isinstance(value, bool | int | float | str | list) else str(value)
        for key, value in entry.items()
    }


def _snapshot(obj, *, kind: str | None = None) -> tuple[str, str, str]:
    """(type, id, name) of a model instance or an explicit dict."""
    if obj is None:
        return "", "", ""
    if isinstance(obj, dict):
        return str(obj.get("type", "")), str(obj.get("id", "")), str(obj.get("name", ""))[:255]
    type_name = kind or getattr(obj, "event_resource_type", obj._meta.model_name)
    return type_name, str(obj.pk or ""), str(obj)[:255]


def _column(value, limit: int) -> str:
    return text_storable(str(value or ""))[:limit]


def record(
    *,
    event_type: str,
    service: str,
    organization=None,
    success: bool = True,
    resource=None,
    actor=None,
    initiator: dict | None = None,
    message: str = "",
    changes: Iterable[dict] | None = None,
) -> Event:
    """Write one audit event; initiator, client and correlation id default to the bound context."""
    event_type_check(event_type)
    ctx = current()
    if initiator is not None:
        initiator_type, initiator_id, initiator_email = (
            str(initiator.get("type") or ""),
            str(initiator.get("id") or ""),
            str(initiator.get("email") or ""),
        )
    else:
        who = actor if actor is not None else ctx.actor
        if who is not None:
            initiator_type = "admin" if getattr(who, "is_staff", False) else "user"
            initiator_id, initiator_email = str(who.pk), getattr(who, "email", "")
        else:
            initiator_type, initiator_id, initiator_email = ctx.initiator_type, "", ""
    resource_type, resource_id, resource_name = _snapshot(resource)
    # Events carry strings from outside (a typed email, a user agent, an app's error message): they are
    # cleaned and cut to their columns here, so logging an attacker's input can never fail the write.
    return Event.objects.create(
        organization=organization,
        event_type=_column(event_type, 64),
        service=service,
        success=success,
        initiator_type=_column(initiator_type, 16),
        initiator_id=_column(initiator_id, 64),
        initiator_email=_column((initiator_email or "").strip().lower(), 254),
        resource_type=_column(resource_type, 32),
        resource_id=_column(resource_id, 64),
        resource_name=_column(resource_name, 255),
        client_ip=ctx.client_ip,
        user_agent=_column(ctx.user_agent, 512),
        message=_column(message, MAX_MESSAGE_CHARS),
        changes=changes_scrub(changes),
        correlation_id=_column(ctx.correlation_id, 36),
    )


def outbound_failure_record(*, service: str, organization, resource, detail: str) -> Event:
    """Keep what an outbound request to a tenant's URL ran into, for platform operators only.

    The tenant's admin is told only that the app could not be reached (their own event says so);
    the detail (refused address, closed port, TLS error, a non-SCIM answer) would let them map a
    network, so it goes into a platform event, which tenant admins do not see.
    """
    name = getattr(organization, "name", "") or "no organization"
    return record(
        event_type="outbound_failure",
        service=service,
        organization=None,
        success=False,
        resource=resource,
        message=f"{name}: {detail}"[:2000],
    )


# --- API keys -------------------------------------------------------------------------------

API_KEY_PREFIX = "lyk_"  # recognisable in a secret scanner's rules and in a leaked log line
_LAST_USED_RESOLUTION = timedelta(minutes=1)  # do not write a row on every API call


def api_key_hash(raw_key: str) -> str:
    """The stored form of a key: sha256 is enough for a 256-bit random secret (no dictionary to guess from)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, organization, name: str, actor=None) -> tuple[ApiKey, str]:
    """Create an API key for an organization; returns the row and the key, which is never available again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the key a name that says what it is for."})
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name[:100],
        prefix=raw_key[: len(API_KEY_PREFIX) + 6],
        key_hash=api_key_hash(raw_key),
        created_by_email=getattr(actor, "email", "") or "",
    )
    record(
        event_type="insights_api_key_create",
        service=Service.ADMIN,
        organization=organization,
        resource={"type": "api_key", "id": api_key.pk, "name": str(api_key)},
        actor=actor,
        message=f"API key “{api_key.name}” created",
    )
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor=None) -> bool:
    """Revoke a key so it stops working at once; returns False if it was already revoked."""
    updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    if updated:
        record(
            event_type="insights_api_key_revoke",
            service=Service.ADMIN,
            organization=api_key.organization,
            resource={"type": "api_key", "id": api_key.pk, "name": str(api_key)},
            actor=actor,
            message=f"API key “{api_key.name}” revoked",
        )
    return bool(updated)


@transaction.atomic
def api_key_rename(*, api_key: ApiKey, name: str, actor=None) -> ApiKey:
    """Give a key a new name (what it is for); the key itself does not change."""
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationError({"name": "Give the key a name that says what it is for."})
    old = ApiKey.objects.select_for_update().values_list("name", flat=True).get(pk=api_key.pk)
    api_key.name = name
    if name != old:
        ApiKey.objects.filter(pk=api_key.pk).update(name=name)
        record(
            event_type="insights_api_key_update",
            service=Service.ADMIN,
            organization=api_key.organization,
            resource={"type": "api_key", "id": api_key.pk, "name": str(api_key)},
            actor=actor,
            message=f"API key “{old}” renamed to “{name}”",
            changes=[{"field": "name", "from": old, "to": name}],
        )
    return api_key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key matching a presented secret (its last-used time brought up to date), or None."""
    if not raw_key or not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 100:
        return None
    api_key = ApiKey.objects.filter(key_hash=api_key_hash(raw_key), revoked_at__isnull=True).first()
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- retention ------------------------------------------------------------------------------

PRUNE_BATCH_SIZE = 5000


def retention_policy_for(*, organization_id: int) -> RetentionPolicy:
    """An organization's retention settings, created with the default on first use."""
    policy, _ = RetentionPolicy.objects.get_or_create(organization_id=organization_id)
    return policy


def events_prune(*, organization_id: int | None, older_than: datetime, batch_size: int = PRUNE_BATCH_SIZE) -> int:
    """Delete one organization's events older than a moment, in short transactions of at most batch_size rows.

    Each batch picks the oldest ids through the (organization, timestamp, id) index and deletes them
    by primary key in its own transaction, so no lock is held for long and writers are never blocked
    behind a large DELETE. Returns how many rows were removed.
    """
    batch_size = max(1, min(batch_size, PRUNE_BATCH_SIZE))
    removed = 0
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(organization_id=organization_id, timestamp__lt=older_than)
                .order_by("timestamp", "id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                return removed
            deleted, _ = Event.objects.filter(id__in=ids).delete()
        removed += deleted


def retention_run(*, now: datetime | None = None, batch_size: int = PRUNE_BATCH_SIZE) -> dict[int | None, int]:
    """Prune every organization's expired events by its own retention days; returns rows removed per organization.

    Platform events (no organization) are kept for the default retention period.
    """
    now = now or timezone.now()
    organization_model = Event._meta.get_field("organization").related_model
    days_by_org = dict(RetentionPolicy.objects.values_list("organization_id", "retention_days"))
    results: dict[int | None, int] = {}
    for organization_id in organization_model._default_manager.order_by("pk").values_list("pk", flat=True):
        days = days_by_org.get(organization_id, DEFAULT_RETENTION_DAYS)
        removed = events_prune(
            organization_id=organization_id, older_than=now - timedelta(days=days), batch_size=batch_size
        )
        RetentionPolicy.objects.update_or_create(
            organization_id=organization_id, defaults={"last_run_at": timezone.now(), "last_removed": removed}
        )
        if removed:
            record(
                event_type="insights_retention_prune",
                service=Service.ADMIN,
                organization=organization_model(pk=organization_id),
                initiator={"type": "system"},
                message=f"{removed} event(s) older than {days} days deleted",
            )
        results[organization_id] = removed
    results[None] = events_prune(
        organization_id=None, older_than=now - timedelta(days=DEFAULT_RETENTION_DAYS), batch_size=batch_size
    )
    return results


@transaction.atomic
def retention_days_set(*, organization_id: int, retention_days: int, actor=None) -> RetentionPolicy:
    """Change how many days of events an organization keeps."""
    if not 1 <= retention_days <= 3650:
        raise ValidationError({"retention_days": "Choose between 1 and 3650 days."})
    policy = retention_policy_for(organization_id=organization_id)
    before = policy.retention_days
    if before != retention_days:
        policy.retention_days = retention_days
        policy.save(update_fields=["retention_days"])
        record(
            event_type="insights_retention_update",
            service=Service.ADMIN,
            organization=policy.organization,
            resource={"type": "event_retention", "id": policy.pk, "name": str(policy)},
            actor=actor,
            changes=[{"field": "retention_days", "from": before, "to": retention_days}],
        )
    return policy
