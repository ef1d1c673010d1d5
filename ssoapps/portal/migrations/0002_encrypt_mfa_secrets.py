"""Encrypt the TOTP secrets and recovery-code seeds that allauth stored in clear before the portal's MFA adapter."""

from django.db import migrations

from ssoapps.portal.mfa_secrets import mfa_secrets_decrypt, mfa_secrets_encrypt


def encrypt_secrets(apps, schema_editor):
    mfa_secrets_encrypt(authenticators=apps.get_model("mfa", "Authenticator").objects.all())


def decrypt_secrets(apps, schema_editor):
    mfa_secrets_decrypt(authenticators=apps.get_model("mfa", "Authenticator").objects.all())


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_email_addresses_follow_directory"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_secrets, decrypt_secrets)]
