"""The one error the SAML engine raises: a refusal with a reason for the log and a sentence for the person."""


class SamlRefusal(Exception):
    """A request the IdP will not answer with an assertion."""

    def __init__(self, reason: str, message: str, *, status: int = 400):
        super().__init__(message)
        self.reason = reason  # machine-readable, goes into the sso_auth event
        self.message = message  # a sentence for the person who sees the error page
        self.status = status


# Reasons, as they appear in sso_auth events
UNKNOWN_SLUG = "unknown_slug"
APP_INACTIVE = "app_inactive"
NOT_AUTHORIZED = "not_authorized"
USER_SUSPENDED = "user_suspended"
BAD_REQUEST = "bad_request"
BAD_SIGNATURE = "bad_signature"
SIGNATURE_MISSING = "signature_missing"
UNKNOWN_ACS = "unknown_acs"
RELAY_STATE_TOO_LONG = "relay_state_too_long"
REPLAY = "replay"
WRONG_ISSUER = "wrong_issuer"
EXPIRED = "expired"
NO_SIGNING_KEY = "no_signing_key"
