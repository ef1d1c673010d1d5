"""TOTP secrets and recovery-code seeds are stored encrypted with FIELD_ENCRYPTION_KEYS (issue 10, finding 7)."""

import importlib
import io
import json

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse

from tests.factories import PASSWORD

from .helpers import totp_code

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def current_key() -> Fernet:
    """The first key of the ring, the one that encrypts."""
    return Fernet(django_settings.FIELD_ENCRYPTION_KEYS[0].encode())


def stored(user, kind) -> dict:
    """The row's data as the database holds it."""
    return Authenticator.objects.get(user=user, type=kind).data


def sign_in_with_code(client, user, code) -> bool:
    """Password, then the second factor: a recovery code, or the authenticator app's code for a TOTP secret."""
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": code() if callable(code) else code})
    signed_in = client.session.get("_auth_user_id") == str(user.pk)
    client.post(reverse("account_logout"))
    return signed_in


def test_enrolled_secrets_are_stored_encrypted_and_still_sign_in(client, alice):
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    codes = RecoveryCodes.activate(alice).get_unused_codes()

    totp_row, recovery_row = stored(alice, "totp"), stored(alice, "recovery_codes")
    assert secret not in json.dumps(totp_row)
    assert totp_row["secret"].startswith("gAAAAA")  # a Fernet token
    assert recovery_row["seed"].startswith("gAAAAA")
    assert len(current_key().decrypt(recovery_row["seed"].encode()).decode()) == 80  # the 40-byte hex seed
    assert sign_in_with_code(client, alice, lambda: totp_code(secret))
    assert sign_in_with_code(client, alice, codes[0])


def test_rotate_encryption_keys_re_encrypts_mfa_secrets(client, alice, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    codes = RecoveryCodes.activate(alice).get_unused_codes()

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key is retired

    assert Fernet(NEW_KEY).decrypt(stored(alice, "totp")["secret"].encode()).decode() == secret
    assert sign_in_with_code(client, alice, lambda: totp_code(secret))
    assert sign_in_with_code(client, alice, codes[1])


def test_the_migration_encrypts_rows_stored_in_clear_and_leaves_security_keys_alone(client, alice):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    seed = "ab" * 40
    Authenticator.objects.create(user=alice, type="totp", data={"secret": secret})
    Authenticator.objects.create(user=alice, type="recovery_codes", data={"seed": seed, "used_mask": 0})
    webauthn = {"name": "My key", "credential": {"id": "Y3JlZA", "response": {"attestationObject": "o2NmbXQ"}}}
    Authenticator.objects.create(user=alice, type="webauthn", data=webauthn)
    migration = importlib.import_module("ssoapps.portal.migrations.0002_encrypt_mfa_secrets")

    migration.encrypt_secrets(apps, None)
    migration.encrypt_secrets(apps, None)  # a second run changes nothing

    assert current_key().decrypt(stored(alice, "totp")["secret"].encode()).decode() == secret
    assert current_key().decrypt(stored(alice, "recovery_codes")["seed"].encode()).decode() == seed
    assert stored(alice, "webauthn") == webauthn
    assert sign_in_with_code(client, alice, lambda: totp_code(secret))

    migration.decrypt_secrets(apps, None)  # the migration reverses
    assert stored(alice, "totp") == {"secret": secret}
