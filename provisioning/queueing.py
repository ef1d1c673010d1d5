"""Putting provisioning work on the `provisioning` RQ queue (always called from transaction.on_commit)."""

import django_rq
from redis import Redis

QUEUE = "provisioning"
BATCH_SIZE = 250  # accounts per batch job
BULK_THRESHOLD = 20  # more accounts than this at once: one sync job that lists the app's users first


def redis_connection() -> Redis:
    """The Redis behind the provisioning queue (also holds the rate limiter)."""
    return django_rq.get_connection(QUEUE)


def _queue():
    return django_rq.get_queue(QUEUE)


def enqueue_accounts(*, integration_id: int, account_ids: list[int]) -> None:
    """Queue reconciles: one job per account for a few, one sync job (listing the app once) for many."""
    if len(account_ids) > BULK_THRESHOLD:
        enqueue_sync(integration_id=integration_id, list_remote=True)
        return
    for account_id in account_ids:
        _queue().enqueue("provisioning.jobs.reconcile", account_id, job_timeout=600)


def enqueue_batches(*, integration_id: int, account_ids: list[int]) -> None:
    """Queue batch reconciles of at most BATCH_SIZE accounts each."""
    for start in range(0, len(account_ids), BATCH_SIZE):
        _queue().enqueue(
            "provisioning.jobs.reconcile_batch",
            integration_id,
            account_ids[start : start + BATCH_SIZE],
            job_timeout=1800,
        )


def enqueue_sync(*, integration_id: int, list_remote: bool) -> None:
    """Queue a sync of every dirty account of an integration."""
    _queue().enqueue("provisioning.jobs.integration_sync", integration_id, list_remote, job_timeout=1800)


def enqueue_import(*, integration_id: int, remote_ids: list[str], actor_id: int) -> None:
    """Queue a large manual import."""
    _queue().enqueue("provisioning.jobs.import_users", integration_id, remote_ids, actor_id, job_timeout=3600)


def enqueue_groups_push(*, integration_id: int) -> None:
    """Queue a push of the bound groups and their members (one pending push per integration)."""
    _queue().enqueue(
        "provisioning.jobs.groups_push", integration_id, job_id=f"provisioning-groups-{integration_id}", job_timeout=600
    )
