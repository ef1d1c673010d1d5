"""Every periodic job of the deployment, for one scheduler: `manage.py rqcron config.cron`."""

import insights.cron  # noqa: F401  (event retention)
import provisioning.cron  # noqa: F401  (sweep of lost reconciles, nightly full sync)
