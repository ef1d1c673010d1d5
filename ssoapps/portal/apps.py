"""App config for the end-user portal."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The portal: its signal receivers are connected and its MFA secrets join key rotation when Django starts."""

    name = "ssoapps.portal"
    label = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from directory.encryption import rotation_register

        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .mfa_secrets import mfa_secrets_rotate

        rotation_register(mfa_secrets_rotate)
