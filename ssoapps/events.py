"""Event types of SSO applications: their configuration, signing keys and SAML sign-ins."""

EVENT_TYPES = {
    "application_create": "An application was added from the catalog.",
    "application_update": "An application's settings were changed.",
    "application_deactivate": "An application was switched off.",
    "application_delete": "An application was deleted.",
    "application_group_bind": "A group was given access to an application.",
    "application_group_unbind": "A group's access to an application was removed.",
    "signing_key_create": "A signing key was generated for an application.",
    "signing_key_promote": "A signing key became an application's active key.",
    "sso_auth": "A SAML sign-in to an application (issued or refused).",
}
