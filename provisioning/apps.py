"""Provisioning: SCIM integrations, provisioned accounts, reconcile and import jobs."""

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    """App config for SCIM provisioning; connects the signal receivers."""

    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from insights.registry import event_types_register

        from . import signals  # noqa: F401 - connects the receivers
        from .events import EVENT_TYPES

        event_types_register(app_label=self.label, types=EVENT_TYPES)
