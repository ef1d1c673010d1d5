"""MFA secrets at rest: which parts of allauth's Authenticator data are secret, encrypting and rotating them.

TOTP secrets and recovery-code seeds (and the codes of rows allauth migrated from older versions) are
encrypted with FIELD_ENCRYPTION_KEYS through the portal's MFA adapter. WebAuthn rows hold public keys
and credential ids only, so they are left as they are.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import QuerySet

from core import encryption

SECRET_TYPES = ("totp", "recovery_codes")


def secret_data(*, authenticator_type: str, data: dict, transform: Callable[[str], str]) -> dict:
    """A copy of an Authenticator's `data` with `transform` applied to each secret value in it."""
    data = dict(data)
    if authenticator_type == "totp" and data.get("secret"):
        data["secret"] = transform(data["secret"])
    elif authenticator_type == "recovery_codes":
        if data.get("seed"):
            data["seed"] = transform(data["seed"])
        if data.get("migrated_codes") is not None:
            data["migrated_codes"] = [transform(code) for code in data["migrated_codes"]]
    return data


def encrypted(value: str) -> str:
    """The value encrypted, unless it already is (TOTP secrets are base32, seeds hex: never a Fernet token)."""
    try:
        encryption.decrypt(value)
    except ImproperlyConfigured:
        if value.startswith("gAAAAA"):  # a Fernet token written with a key that is no longer configured
            raise
        return encryption.encrypt(value)
    return value


@transaction.atomic
def authenticator_secrets_transform(*, authenticators: QuerySet, transform: Callable[[str], str]) -> int:
    """Apply `transform` to the secrets of every TOTP and recovery-code row; returns the number of rows changed."""
    changed = 0
    rows = authenticators.filter(type__in=SECRET_TYPES).select_for_update().values_list("pk", "type", "data")
    for pk, authenticator_type, data in rows:
        new = secret_data(authenticator_type=authenticator_type, data=data, transform=transform)
        if new != data:
            authenticators.filter(pk=pk).update(data=new)
            changed += 1
    return changed


def mfa_secrets_encrypt(*, authenticators: QuerySet) -> int:
    """Encrypt the secrets still stored in clear (the migration that introduced encryption runs this)."""
    return authenticator_secrets_transform(authenticators=authenticators, transform=encrypted)


def mfa_secrets_decrypt(*, authenticators: QuerySet) -> int:
    """Store the secrets in clear again (only for reversing that migration, before removing the adapter)."""
    return authenticator_secrets_transform(authenticators=authenticators, transform=encryption.decrypt)


def mfa_secrets_rotate() -> int:
    """Re-encrypt every MFA secret with the first FIELD_ENCRYPTION_KEYS key (part of `rotate_encryption_keys`)."""
    from allauth.mfa.models import Authenticator

    return authenticator_secrets_transform(authenticators=Authenticator.objects.all(), transform=encryption.rotate)
