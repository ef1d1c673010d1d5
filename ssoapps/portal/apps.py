"""App config for the end-user portal."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The portal: its signal receivers are connected and its MFA secrets join key rotation when Django starts."""

    name = "ssoapps.portal"
    label = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from core.encryption import rotation_register
        from insights.registry import event_types_register

        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .events import EVENT_TYPES
        from .mfa_secrets import mfa_secrets_rotate

        rotation_register(mfa_secrets_rotate)
        event_types_register(app_label=self.label, types=EVENT_TYPES)
