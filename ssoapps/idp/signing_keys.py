"""Which key signs an application's responses: its active key, loaded once per process; never made on the fly."""

import xmlsec

from ..models import Application, KeyState, SigningKey
from ..saml import errors
from ..saml.errors import SamlRefusal
from ..saml.signing import signing_key_load


def sso_signing_key(*, application: Application) -> xmlsec.Key:
    """The loaded active key of this application, or a refusal (keys are made when the app is, not while answering)."""
    key_pk = getattr(application, "active_key_pk", None)  # brought by the one-query lookup
    fingerprint = getattr(application, "active_key_fingerprint", None)
    if key_pk is None:
        active = application.signing_keys.filter(state=KeyState.ACTIVE).only("pk", "fingerprint").first()
        if active is None:
            raise SamlRefusal(
                errors.NO_SIGNING_KEY,
                f"{application.label} has no active signing key, so Lanyard cannot sign you in. Ask your "
                "administrator to create or promote a signing key for it.",
                status=409,
            )
        key_pk, fingerprint = active.pk, active.fingerprint

    def load() -> tuple[str, str]:
        return SigningKey.objects.values_list("private_key", "certificate").get(pk=key_pk)

    return signing_key_load(f"{key_pk}:{fingerprint}", load)
