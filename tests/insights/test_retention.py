"""Retention: each organization's expired events are deleted in small batches by a scheduled RQ job."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler

from insights import jobs, services
from insights.models import Event, RetentionPolicy
from tests.insights.conftest import event
from tests.insights.factories import RetentionPolicyFactory

pytestmark = pytest.mark.django_db


def test_expired_events_go_and_recent_ones_stay_per_organization(org, other_org):
    RetentionPolicyFactory(organization=org, retention_days=7)
    old_ours = [event(org, ago=timedelta(days=8)) for _ in range(3)]
    kept_ours = event(org, ago=timedelta(days=6))
    middle_theirs = event(other_org, ago=timedelta(days=30))  # the default is 90 days
    old_theirs = event(other_org, ago=timedelta(days=91))
    old_platform = event(None, ago=timedelta(days=91))

    removed = services.retention_run()

    assert removed[org.pk] == 3 and removed[other_org.pk] == 1 and removed[None] == 1
    left = set(Event.objects.values_list("pk", flat=True))
    assert kept_ours.pk in left and middle_theirs.pk in left
    assert not left & {e.pk for e in [*old_ours, old_theirs, old_platform]}
    policy = RetentionPolicy.objects.get(organization=org)
    assert policy.last_removed == 3 and policy.last_run_at is not None
    assert RetentionPolicy.objects.get(organization=other_org).retention_days == 90  # created with the default
    pruned = Event.objects.get(organization=org, event_type="insights_retention_prune")
    assert pruned.initiator_type == "system" and "3 event(s)" in pruned.message


def test_pruning_deletes_in_bounded_batches_each_in_its_own_transaction(org):
    for _ in range(5):
        event(org, ago=timedelta(days=100))
    with CaptureQueriesContext(connection) as queries:
        removed = services.events_prune(
            organization_id=org.pk, older_than=timezone.now() - timedelta(days=90), batch_size=2
        )
    assert removed == 5
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert [len(re.search(r"IN \(([^)]*)\)", sql).group(1).split(",")) for sql in deletes] == [2, 2, 1]
    savepoints_or_commits = [q["sql"] for q in queries if "SAVEPOINT" in q["sql"] and "RELEASE" in q["sql"]]
    assert len(savepoints_or_commits) >= 3  # one (nested, under the test's transaction) per batch
    assert not Event.objects.filter(organization=org).exists()


def test_batch_size_is_capped_at_5000(org):
    event(org, ago=timedelta(days=100))
    with CaptureQueriesContext(connection) as queries:
        services.events_prune(organization_id=org.pk, older_than=timezone.now(), batch_size=1_000_000)
    assert any("LIMIT 5000" in q["sql"] for q in queries)


def test_the_rq_job_prunes_when_a_worker_runs_it(org, redis_queues):
    RetentionPolicyFactory(organization=org, retention_days=1)
    event(org, ago=timedelta(days=2))
    kept = event(org, ago=timedelta(hours=1))
    # a plain RQ queue on the same Redis: django-rq's would defer the enqueue to a commit the test never makes
    queue = Queue(jobs.RETENTION_QUEUE, connection=redis_queues[jobs.RETENTION_QUEUE].connection)
    job = queue.enqueue(jobs.retention_prune)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.is_finished, job.latest_result()
    assert job.return_value()[str(org.pk)] == 1
    assert list(Event.objects.filter(organization=org).exclude(event_type="insights_retention_prune")) == [kept]


def test_the_schedule_hook_registers_the_jobs_with_an_rq_cron_scheduler(redis_queues):
    queue = redis_queues[jobs.RETENTION_QUEUE]
    scheduler = CronScheduler(connection=queue.connection)
    jobs.schedule(scheduler.register)
    registered = {cron_job.func: cron_job for cron_job in scheduler.get_jobs()}
    assert set(registered) == {jobs.retention_prune, jobs.webhooks_deliver}
    assert registered[jobs.retention_prune].queue_name == jobs.RETENTION_QUEUE
    assert registered[jobs.retention_prune].interval == jobs.RETENTION_INTERVAL_SECONDS
    assert registered[jobs.webhooks_deliver].interval == jobs.WEBHOOK_INTERVAL_SECONDS


def test_admin_sets_retention_days_and_sees_the_last_run(admin_client, org):
    response = admin_client.post(reverse("admin:insights_retentionpolicy_add"), {"retention_days": "30"})
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get(organization=org)
    assert policy.retention_days == 30
    assert Event.objects.filter(event_type="insights_retention_update").exists()
    event(org, ago=timedelta(days=31))
    services.retention_run()
    page = admin_client.get(reverse("admin:insights_retentionpolicy_changelist")).content.decode()
    assert "30" in page and ">1<" in page
    events_page = admin_client.get(reverse("admin:insights_event_changelist")).content.decode()
    assert "Events are kept 30 days" in events_page and "removed 1 event" in events_page


def test_admin_refuses_a_retention_outside_the_allowed_range(admin_client, org):
    response = admin_client.post(reverse("admin:insights_retentionpolicy_add"), {"retention_days": "0"})
    assert response.status_code == 200
    assert not RetentionPolicy.objects.exists()
    assert "greater than or equal to 1" in response.content.decode()


def test_a_second_retention_row_cannot_be_added(admin_client, org):
    RetentionPolicyFactory(organization=org)
    assert admin_client.get(reverse("admin:insights_retentionpolicy_add")).status_code == 403
