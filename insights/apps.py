"""Insights: the audit event log every other app writes to."""

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """App config for the event log."""

    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from .events import EVENT_TYPES
        from .registry import event_types_register

        event_types_register(app_label=self.label, types=EVENT_TYPES)
