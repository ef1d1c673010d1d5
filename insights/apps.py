"""Insights: the audit event log every other app writes to."""

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """App config for the event log."""

    name = "insights"
    verbose_name = "Insights"
