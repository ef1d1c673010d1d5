"""Provisioning: SCIM integrations, provisioned accounts, reconcile and import jobs."""

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    """App config for SCIM provisioning; connects the signal receivers."""

    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers
