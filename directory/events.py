"""Event types the directory records: organizations, users, groups, memberships, roles and imports."""

EVENT_TYPES = {
    "organization_create": "An organization (tenant) was created.",
    "organization_update": "An organization's settings were changed.",
    "user_create": "A user was added.",
    "user_update": "A user's profile was changed.",
    "user_view": "A user's record was opened (recorded when refused).",
    "user_delete": "A user was deleted.",
    "user_activate": "A staged user was activated.",
    "user_suspend": "A user was suspended; their sessions ended.",
    "user_reactivate": "A suspended user was reactivated.",
    "user_password_set": "An admin set a user's password.",
    "user_roles_update": "A user's admin roles or staff status changed.",
    "user_superuser_update": "A user's operator (superuser) status changed.",
    "user_import": "A CSV import of users finished (or its file was refused).",
    "user_import_row": "One row of a CSV import was refused.",
    "group_create": "A group was created.",
    "group_update": "A group was renamed or its description changed.",
    "group_delete": "A group was deleted.",
    "group_member_add": "A user joined a group.",
    "group_member_remove": "A user left a group.",
}
