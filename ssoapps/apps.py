"""SSO applications: the catalog, configured applications, signing keys, the SAML IdP, the portal."""

from django.apps import AppConfig


class SsoappsConfig(AppConfig):
    """App config for SSO applications."""

    name = "ssoapps"
    verbose_name = "SSO applications"

    def ready(self) -> None:
        from insights.registry import event_types_register

        from .events import EVENT_TYPES

        event_types_register(app_label=self.label, types=EVENT_TYPES)
