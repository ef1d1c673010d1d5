"""The SCIM client of an integration, and what its failures do to the integration (failing, quarantined).

The client itself (scim_client.py) knows nothing of Django; this is where it is given the
integration's URL, token, rate limit and the retry policy from settings, and where a run's
outcome moves the integration between active, failing and quarantined.
"""

from django.conf import settings
from django.db.models import Case, F, Value, When
from django.utils import timezone

from . import queueing
from .audit import event_record
from .models import Integration, IntegrationStatus
from .ratelimit import RedisRateLimiter
from .retry import RetryPolicy
from .scim_client import ScimClient


def setting(name: str, default):
    """A provisioning setting, with its default when the deployment leaves it out."""
    return getattr(settings, name, default)


def integration_client(
    *, integration: Integration, on_attempt=None, attempts: int | None = None, base_url: str | None = None, token=None
) -> ScimClient:
    """A SCIM client for this integration with its rate limit and the retry policy from settings."""
    redis = queueing.redis_connection()
    return ScimClient(
        base_url=base_url or integration.base_url,
        token=token if token is not None else integration.token,
        limiter=RedisRateLimiter(redis=redis, integration_id=integration.pk or 0, rate=integration.rate_limit),
        policy=RetryPolicy(
            attempts=attempts or setting("PROVISIONING_RETRY_ATTEMPTS", 5),
            base=setting("PROVISIONING_RETRY_BASE_SECONDS", 0.5),
            cap=setting("PROVISIONING_RETRY_CAP_SECONDS", 30.0),
        ),
        on_attempt=on_attempt,
        timeout=setting("PROVISIONING_HTTP_TIMEOUT", 15.0),
        max_connections=setting("PROVISIONING_CONCURRENCY", 4) + 2,
    )


def integration_failed(*, integration: Integration, message: str) -> None:
    """Count a failed reconcile; quarantine the integration after too many in a row."""
    limit = setting("PROVISIONING_QUARANTINE_AFTER", 10)
    now = timezone.now()
    Integration.objects.filter(pk=integration.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        total_failures=F("total_failures") + 1,
        last_error=message,
        last_error_at=now,
        status=Case(
            When(status=IntegrationStatus.QUARANTINED, then=Value(IntegrationStatus.QUARANTINED)),
            When(status=IntegrationStatus.INACTIVE, then=Value(IntegrationStatus.INACTIVE)),
            When(consecutive_failures__gte=limit - 1, then=Value(IntegrationStatus.QUARANTINED)),
            default=Value(IntegrationStatus.FAILING),
        ),
    )
    quarantined = Integration.objects.filter(
        pk=integration.pk, status=IntegrationStatus.QUARANTINED, quarantined_at__isnull=True
    ).update(quarantined_at=now)
    if quarantined:
        event_record(
            "idm_integration_update",
            integration=integration,
            success=False,
            message=f"Quarantined after {limit} failures in a row: {message} "
            "Fix the app side, then lift the quarantine.",
        )


def integration_succeeded(*, integration: Integration) -> None:
    """A run got through: a failing integration is active again (a quarantine is only lifted by an admin)."""
    Integration.objects.filter(pk=integration.pk, consecutive_failures__gt=0).exclude(
        status=IntegrationStatus.QUARANTINED
    ).update(
        consecutive_failures=0,
        status=Case(When(status=IntegrationStatus.FAILING, then=Value(IntegrationStatus.ACTIVE)), default=F("status")),
    )
