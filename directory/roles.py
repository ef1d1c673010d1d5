"""Admin roles: Django groups with permission sets, kept in step with the installed models.

A tenant admin (`is_staff`) gets one of these roles; what the role allows is defined here once.
The data migration creates the roles; `roles_sync` runs after every migrate so that models added
by later apps join the roles without a migration of their own.
"""

ADMINISTRATOR = "Administrator"
MANAGER = "Manager"
HELP_DESK = "Help Desk"
READ_ONLY = "Read Only"

TENANT_APPS = ("directory", "ssoapps", "provisioning", "insights")
# The tenant record itself: operators create and delete organizations; every role may view it, and
# only Administrators change its security settings (require MFA), through the extra permission below.
TENANT_RECORD = ("directory", "organization")
TENANT_RECORD_ACTIONS = {"view"}
# Models every role may only look at: the audit log is written by Lanyard, never by hand.
VIEW_ONLY = {("insights", "event")}

# role -> (actions on every tenant model, extra (app_label, codename) pairs). Whom a role may act on
# (users below it only) is the matrix in directory.permissions; tests/test_role_matrix.py keeps both in step.
ROLE_ACTIONS: dict[str, tuple[set[str], set[tuple[str, str]]]] = {
    ADMINISTRATOR: ({"view", "add", "change", "delete"}, {("directory", "change_organization")}),
    MANAGER: ({"view", "add", "change"}, set()),
    HELP_DESK: ({"view"}, {("directory", "change_user")}),
    READ_ONLY: ({"view"}, set()),
}


def role_permissions(role: str, permissions) -> list:
    """The permissions a role holds, chosen from a Permission queryset."""
    actions, extra = ROLE_ACTIONS[role]
    chosen = []
    for perm in permissions:
        app_label, model = perm.content_type.app_label, perm.content_type.model
        if app_label not in TENANT_APPS:
            continue
        if (app_label, perm.codename) in extra:
            chosen.append(perm)
            continue
        action = perm.codename.split("_", 1)[0]
        if (app_label, model) == TENANT_RECORD and action not in TENANT_RECORD_ACTIONS:
            continue
        if (app_label, model) in VIEW_ONLY and action != "view":
            continue
        if action in actions:
            chosen.append(perm)
    return chosen


def roles_sync(group_model, permission_model) -> None:
    """Create the four roles and set each one's permissions to exactly its definition."""
    permissions = list(permission_model.objects.select_related("content_type"))
    for role in ROLE_ACTIONS:
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set(role_permissions(role, permissions))


def roles_sync_after_migrate(sender, **kwargs) -> None:
    """post_migrate hook: run once, after the last app has created its permissions."""
    from django.apps import apps as global_apps

    with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if sender.name != with_models[-1].name:  # post_migrate is sent once per app with models
        return
    from django.contrib.auth.models import Group, Permission

    roles_sync(Group, Permission)
