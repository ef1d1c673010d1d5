"""Streaming events to an organization's SIEM: batches of JSON Lines POSTed in id order, signed with HMAC.

Delivery is pull-based: a scheduled job sends each target the events recorded since the last
one it acknowledged (2xx), so `record()` never waits for a SIEM and a failed delivery is simply
retried on the next run (at least once, in order). After MAX_FAILURES consecutive failures the
target is switched off and an event says so.

Deliveries go through the outbound guard (core.outbound): the host is resolved once, refused if it
is not a public address, and the connection goes to the address that was checked; redirects are
refused. The admin sees "could not reach the endpoint"; what really happened goes to the operators.
"""

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import httpx2
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.outbound import OutboundRefused, destination_check, outbound_client, unreachable_sentence
from core.url_policy import url_check

from .models import Event, Service, WebhookTarget
from .selectors import EVENT_FIELDS, event_as_json
from .services import outbound_failure_record, record

BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 20
MAX_FAILURES = 10
TIMEOUT_SECONDS = 10
# Events younger than this wait for the next run, so a transaction still committing a lower id is not skipped.
SETTLE = timedelta(seconds=5)
SIGNATURE_HEADER = "X-Lanyard-Signature"


class WebhookError(Exception):
    """A delivery failed; the message says why, in words an admin can act on; `detail` is for operators."""

    def __init__(self, message: str, *, detail: str = ""):
        super().__init__(message)
        self.detail = detail


def webhook_signing_key(*, target: WebhookTarget) -> str:
    """The target's HMAC key: derived from SECRET_KEY and the target, so no secret is stored in the database."""
    return salted_hmac("insights.webhook", f"{target.pk}:{target.created_at.isoformat()}").hexdigest()


def webhook_signature(*, key: str, body: bytes) -> str:
    """The signature header value a receiver recomputes: sha256=<hex HMAC of the raw body>."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def webhook_url_check(url: str) -> None:
    """Refuse URLs a tenant must not make Lanyard call: against the URL policy, or resolving to an internal address.

    Resolving here only answers early; every delivery is checked again by the outbound guard.
    """
    try:
        url_check(url, field="webhook URL")
        destination_check(url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from exc
    except OutboundRefused as exc:
        raise ValidationError(
            {"url": f"{unreachable_sentence(exc.host, what='the endpoint')} Use a public https:// endpoint."}
        ) from exc


@transaction.atomic
def webhook_create(*, organization, url: str, actor=None) -> tuple[WebhookTarget, str]:
    """Start streaming an organization's new events to a URL; returns the target and its signing key."""
    webhook_url_check(url)
    target = WebhookTarget.objects.create(organization=organization, url=url)
    record(
        event_type="insights_webhook_create",
        service=Service.ADMIN,
        organization=organization,
        resource={"type": "event_webhook", "id": target.pk, "name": url},
        actor=actor,
        message=f"Events are streamed to {url}",
    )
    # the stream starts after this moment: earlier events are in the export, not the webhook
    target.last_delivered_id = Event.objects.filter(organization=organization).aggregate(latest=Max("id"))["latest"]
    target.save(update_fields=["last_delivered_id"])
    return target, webhook_signing_key(target=target)


@transaction.atomic
def webhook_active_set(*, target: WebhookTarget, active: bool, actor=None) -> WebhookTarget:
    """Switch streaming to a target on or off; switching on forgets past failures."""
    stored = WebhookTarget.objects.select_for_update().get(pk=target.pk)
    if stored.active != active:
        fields = {"active": active, **({"consecutive_failures": 0} if active else {})}
        WebhookTarget.objects.filter(pk=stored.pk).update(**fields)
        record(
            event_type="insights_webhook_enable" if active else "insights_webhook_disable",
            service=Service.ADMIN,
            organization=stored.organization,
            resource={"type": "event_webhook", "id": stored.pk, "name": stored.url},
            actor=actor,
            message=f"Streaming to {stored.url} switched {'on' if active else 'off'}.",
            changes=[{"field": "active", "from": stored.active, "to": active}],
        )
    target.refresh_from_db()
    return target


def _post(url: str, body: bytes, signature: str) -> None:
    """POST one batch through the outbound guard; any answer but 2xx is a WebhookError."""
    try:
        url_check(url, field="webhook URL")  # a target stored before the URL policy is refused, not called
    except ValidationError as exc:
        raise WebhookError(f"{exc.messages[0]} Add a webhook with an https:// URL.") from exc
    host = httpx2.URL(url).host
    headers = {"Content-Type": "application/x-ndjson", SIGNATURE_HEADER: signature, "User-Agent": "Lanyard"}
    try:
        with outbound_client(timeout=TIMEOUT_SECONDS, max_connections=1) as http:
            response = http.post(url, content=body, headers=headers)
    except OutboundRefused as exc:
        raise WebhookError(unreachable_sentence(host, what="the endpoint"), detail=exc.detail) from exc
    except httpx2.HTTPError as exc:
        detail = f"POST to {host}: {type(exc).__name__}: {exc}"
        raise WebhookError(unreachable_sentence(host, what="the endpoint"), detail=detail) from exc
    if not 200 <= response.status_code < 300:
        raise WebhookError(f"The endpoint answered HTTP {response.status_code}.")


def _fail(target: WebhookTarget, message: str) -> None:
    WebhookTarget.objects.filter(pk=target.pk).update(
        last_error=message[:500], consecutive_failures=F("consecutive_failures") + 1
    )
    target.refresh_from_db()
    if target.consecutive_failures >= MAX_FAILURES:
        WebhookTarget.objects.filter(pk=target.pk).update(active=False)
        record(
            event_type="insights_webhook_disable",
            service=Service.ADMIN,
            organization=target.organization,
            resource={"type": "event_webhook", "id": target.pk, "name": target.url},
            initiator={"type": "system"},
            success=False,
            message=f"Streaming to {target.url} stopped after {MAX_FAILURES} failed deliveries: {message} "
            "Fix the endpoint, then switch the webhook on again.",
        )


def _horizon(target: WebhookTarget, cutoff: datetime) -> int | None:
    """The organization's lowest event id that has not settled yet; nothing at or above it may be sent.

    An event's timestamp is taken before its id, so a settled event can carry a higher id than a
    younger one; sending it would move the pointer past the younger one for good.
    """
    return (
        Event.objects.filter(organization_id=target.organization_id, timestamp__gte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def _skip_ahead(target: WebhookTarget, cutoff: datetime, horizon: int | None) -> None:
    """Move a quiet target's pointer past other organizations' settled events, so its next scan starts near the end."""
    settled = Event.objects.filter(timestamp__lt=cutoff).order_by("-id").values_list("id", flat=True).first()
    if settled is None:
        return
    if horizon is not None:
        settled = min(settled, horizon - 1)
    if settled > target.last_delivered_id:
        target.last_delivered_id = settled
        WebhookTarget.objects.filter(pk=target.pk).update(last_delivered_id=settled)


def webhook_deliver(*, target: WebhookTarget, now: datetime | None = None) -> int:
    """Send a target the events it has not acknowledged yet, oldest first; returns how many were accepted."""
    cutoff = (now or timezone.now()) - SETTLE
    horizon = _horizon(target, cutoff)
    key = webhook_signing_key(target=target)
    sent = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        pending = Event.objects.filter(organization_id=target.organization_id, id__gt=target.last_delivered_id)
        if horizon is not None:
            pending = pending.filter(id__lt=horizon)
        rows = list(pending.order_by("id").values(*EVENT_FIELDS)[:BATCH_SIZE])
        if not rows:
            _skip_ahead(target, cutoff, horizon)
            break
        body = "".join(json.dumps(event_as_json(row), separators=(",", ":")) + "\n" for row in rows).encode()
        try:
            _post(target.url, body, webhook_signature(key=key, body=body))
        except WebhookError as exc:
            if exc.detail:
                outbound_failure_record(
                    service=Service.ADMIN,
                    organization=target.organization,
                    resource={"type": "event_webhook", "id": target.pk, "name": target.url},
                    detail=exc.detail,
                )
            _fail(target, str(exc))
            break
        target.last_delivered_id = rows[-1]["id"]
        WebhookTarget.objects.filter(pk=target.pk).update(
            last_delivered_id=target.last_delivered_id,
            last_delivery_at=timezone.now(),
            last_error="",
            consecutive_failures=0,
        )
        sent += len(rows)
    return sent


def webhooks_deliver_all(*, now: datetime | None = None) -> dict[int, int]:
    """Deliver pending events to every active target; returns events accepted per target id."""
    return {
        target.pk: webhook_deliver(target=target, now=now)
        for target in WebhookTarget.objects.filter(active=True).select_related("organization")
    }
