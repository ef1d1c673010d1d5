"""Streaming events to an organization's SIEM: batches of JSON Lines POSTed in id order, signed with HMAC.

Delivery is pull-based: a scheduled job sends each target the events recorded since the last
one it acknowledged (2xx), so `record()` never waits for a SIEM and a failed delivery is simply
retried on the next run (at least once, in order). After MAX_FAILURES consecutive failures the
target is switched off and an event says so.
"""

import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import Event, Service, WebhookTarget
from .selectors import EVENT_FIELDS, event_as_json
from .services import record

BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 20
MAX_FAILURES = 10
TIMEOUT_SECONDS = 10
# Events younger than this wait for the next run, so a transaction still committing a lower id is not skipped.
SETTLE = timedelta(seconds=5)
SIGNATURE_HEADER = "X-Lanyard-Signature"


class WebhookError(Exception):
    """A delivery failed; the message says why, in words an admin can act on."""


def webhook_signing_key(*, target: WebhookTarget) -> str:
    """The target's HMAC key: derived from SECRET_KEY and the target, so no secret is stored in the database."""
    return salted_hmac("insights.webhook", f"{target.pk}:{target.created_at.isoformat()}").hexdigest()


def webhook_signature(*, key: str, body: bytes) -> str:
    """The signature header value a receiver recomputes: sha256=<hex HMAC of the raw body>."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def webhook_url_check(url: str) -> None:
    """Refuse URLs a tenant must not make Lanyard call: not HTTPS, or resolving to a private address."""
    parts = urlsplit(url)
    allow_http = getattr(settings, "INSIGHTS_WEBHOOK_ALLOW_HTTP", False)
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise ValidationError({"url": "Use an https:// URL."})
    if not parts.hostname:
        raise ValidationError({"url": "Give the full URL, including the host name."})
    if getattr(settings, "INSIGHTS_WEBHOOK_ALLOW_PRIVATE", False):
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError({"url": f"The host {parts.hostname} cannot be resolved. Check the URL."}) from exc
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        raise ValidationError({"url": "This host resolves to a private or local address; use a public endpoint."})


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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could point anywhere, including inside our network: treat it as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _post(url: str, body: bytes, signature: str) -> None:
    webhook_url_check(url)  # again at send time: DNS may have changed since the target was saved
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-ndjson", SIGNATURE_HEADER: signature, "User-Agent": "Lanyard"},
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            if not 200 <= response.status < 300:
                raise WebhookError(f"The endpoint answered HTTP {response.status}.")
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"The endpoint answered HTTP {exc.code}.") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"The endpoint could not be reached ({reason}).") from exc


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
        except (WebhookError, ValidationError) as exc:
            _fail(target, " ".join(getattr(exc, "messages", [str(exc)])))
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
