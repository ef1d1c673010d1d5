"""App config for the end-user portal."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The portal: its signal receivers are connected when Django starts."""

    name = "ssoapps.portal"
    label = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
