"""Directory: organizations (tenants), users, groups, admin roles and tenant scoping."""

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """App config for the directory."""

    name = "directory"
    verbose_name = "Directory"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401  (registers the membership guard)
        from .roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="directory.roles_sync")
