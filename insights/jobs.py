"""RQ entry points of the event log, and the hook that schedules them."""

from collections.abc import Callable

from . import services, webhooks
from .context import job_bound

RETENTION_QUEUE = "default"
RETENTION_INTERVAL_SECONDS = 60 * 60  # hourly: each run only has an hour's worth of expired rows to delete
WEBHOOK_INTERVAL_SECONDS = 60


@job_bound
def retention_prune() -> dict:
    """RQ entry point: delete every organization's events older than its retention period."""
    removed = services.retention_run()
    return {str(org): count for org, count in removed.items()}


@job_bound
def webhooks_deliver() -> dict:
    """RQ entry point: stream new events to every organization's active SIEM webhooks."""
    return {str(target): count for target, count in webhooks.webhooks_deliver_all().items()}


def schedule(register: Callable) -> None:
    """Register the event log's periodic jobs with an RQ cron scheduler's `register` function.

    `register` is `rq.cron.register` (in a cron config module such as `insights.cron`) or a
    `CronScheduler.register` bound method; both take (func, queue_name, interval=...).
    """
    register(retention_prune, RETENTION_QUEUE, interval=RETENTION_INTERVAL_SECONDS, name="insights.retention_prune")
    register(webhooks_deliver, RETENTION_QUEUE, interval=WEBHOOK_INTERVAL_SECONDS, name="insights.webhooks_deliver")
