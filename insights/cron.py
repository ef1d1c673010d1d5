"""RQ cron config for the event log: `manage.py rqcron insights.cron` runs the retention job hourly."""

from rq import cron

from .jobs import schedule

schedule(cron.register)
