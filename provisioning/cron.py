"""RQ cron configuration for provisioning: run with `manage.py rqcron provisioning.cron`.

The sweep re-queues dirty accounts whose job was lost (a worker died, Redis was flushed); the
nightly full sync lists every app's users and repairs drift.
"""

from rq import cron

from provisioning import jobs

cron.register(jobs.sweep, "provisioning", interval=60, name="provisioning-sweep")
cron.register(jobs.full_sync_all, "provisioning", cron="0 3 * * *", name="provisioning-full-sync", job_timeout=3600)
