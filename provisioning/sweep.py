"""The safety nets: the sweep re-queues dirty accounts whose job was lost; the nightly full sync repairs drift."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from . import queueing
from .client import setting
from .marking import integration_full_sync
from .models import Integration, IntegrationStatus, ProvisionedAccount


def accounts_sweep() -> int:
    """Re-queue dirty accounts whose job was lost (nobody holds them and they were marked a while ago)."""
    now = timezone.now()
    grace = timedelta(seconds=setting("PROVISIONING_SWEEP_GRACE_SECONDS", 120))
    stale = (
        ProvisionedAccount.objects.filter(
            dirty=True,
            marked_at__lt=now - grace,
            integration__status__in=(IntegrationStatus.ACTIVE, IntegrationStatus.FAILING),
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("integration_id", "pk")
    )
    by_integration: dict[int, list[int]] = {}
    for integration_id, pk in stale:
        by_integration.setdefault(integration_id, []).append(pk)
    for integration_id, ids in by_integration.items():
        queueing.enqueue_batches(integration_id=integration_id, account_ids=ids)
    return sum(len(ids) for ids in by_integration.values())


def integrations_full_sync_all() -> int:
    """Full sync of every running integration (the nightly drift repair)."""
    integrations = Integration.objects.filter(status__in=(IntegrationStatus.ACTIVE, IntegrationStatus.FAILING))
    for integration in integrations:
        integration_full_sync(integration=integration)
    return len(integrations)
