"""Provisioning: SCIM integrations, provisioned accounts, reconcile and import jobs."""

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    """App config for SCIM provisioning."""

    name = "provisioning"
    verbose_name = "Provisioning"
