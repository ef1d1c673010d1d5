"""The sweep and the nightly full sync are registered with RQ's cron scheduler (`rqcron provisioning.cron`)."""

from rq.cron import CronScheduler


def test_cron_config_schedules_the_sweep_and_the_full_sync(redis_queues):
    scheduler = CronScheduler(connection=redis_queues["provisioning"].connection)
    scheduler.load_config_from_file("provisioning.cron")
    jobs = {job.func_name: job for job in scheduler.get_jobs()}
    assert jobs["provisioning.jobs.sweep"].interval == 60
    assert jobs["provisioning.jobs.full_sync_all"].cron == "0 3 * * *"
    assert {job.queue_name for job in jobs.values()} == {"provisioning"}
