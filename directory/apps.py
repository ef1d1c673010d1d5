"""Directory: organizations (tenants), users, groups, admin roles and tenant scoping."""

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """App config for the directory."""

    name = "directory"
    verbose_name = "Directory"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from insights.registry import event_types_register

        from . import signals  # noqa: F401  (registers the membership guard)
        from .events import EVENT_TYPES
        from .roles import roles_sync_after_migrate

        event_types_register(app_label=self.label, types=EVENT_TYPES)

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="directory.roles_sync")
