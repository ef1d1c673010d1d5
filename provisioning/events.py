"""Event types of SCIM provisioning: integrations, the requests sent to apps, and imports."""

EVENT_TYPES = {
    "idm_integration_activate": "SCIM provisioning to an application was switched on (or refused).",
    "idm_integration_update": "An integration's URL, settings or state changed, or a full sync started.",
    "idm_integration_reauth": "An integration's API token was replaced.",
    "idm_integration_delete": "An integration was switched off or removed.",
    "user_create_provision": "A user was created in an application.",
    "user_update_provision": "A user's account in an application was updated.",
    "user_deprovision": "A user's account in an application was deactivated.",
    "user_delete_provision": "A user's account in an application was deleted.",
    "user_lookup_provision": "An application was searched for a user's existing account.",
    "group_create_provision": "A group was created in an application.",
    "group_update_provision": "A group's members or name were updated in an application.",
    "group_delete_provision": "A group was deleted in an application.",
    "scim_request": "A SCIM request failed in a way the admin should see.",
}
