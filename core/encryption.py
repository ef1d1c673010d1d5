"""Secrets at rest: Fernet encryption with the keys in FIELD_ENCRYPTION_KEYS (MultiFernet).

The first key encrypts; every key decrypts, so a key is rotated by putting a new one first and
running `manage.py rotate_encryption_keys`, which re-encrypts every EncryptedTextField value and
the secrets other apps keep elsewhere and register here (the portal's MFA secrets).
Values are never written to temporary files or logs; the field's repr is masked.
"""

from collections.abc import Callable
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty. Set at least one Fernet key (see .env.example).")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."
        ) from exc


def fernet() -> MultiFernet:
    """The MultiFernet for the configured keys."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """Encrypt a string with the first configured key."""
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt a value written with any configured key."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS; the key it was written with is missing."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a stored value with the first configured key."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plaintext."""

    def from_db_value(self, value, expression, connection):
        return None if value is None or value == "" else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None or value == "" else encrypt(value)


def encrypted_fields():
    """Every (model, field) in the project stored with EncryptedTextField."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


# Re-encryptions of secrets kept outside EncryptedTextField columns (e.g. inside a JSON column of a
# third-party model), registered by the app that owns them so the directory need not know them.
_rotations: list[Callable[[], int]] = []


def rotation_register(rotate_all: Callable[[], int]) -> None:
    """Have `rotate_encryption_keys` also call `rotate_all`, which re-encrypts its secrets and returns how many."""
    if rotate_all not in _rotations:
        _rotations.append(rotate_all)


def registered_rotations() -> tuple[Callable[[], int], ...]:
    """The re-encryptions registered by apps, in registration order."""
    return tuple(_rotations)
