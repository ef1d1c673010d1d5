"""Event types of the end-user portal: sign-ins, second factors, password resets and app launches."""

EVENT_TYPES = {
    "portal_login": "A sign-in to the portal (completed or refused, with the reason).",
    "portal_logout": "A sign-out from the portal (no longer recorded; kept so stored events stay listed).",
    "portal_redirect_refused": "A redirect to a URL outside Lanyard was refused after sign-in.",
    "mfa_enroll": "A user added a second factor.",
    "mfa_remove": "A second factor was removed (by its user or an admin).",
    "mfa_auth": "A second-factor code was refused.",
    "password_reset": "A password was reset from an emailed link (or the link was refused).",
    "activation_email": "An activation email was sent.",
    "app_launch": "A user launched an application from the portal (or was refused).",
}
