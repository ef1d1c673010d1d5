"""Signing keys: generated per application, encrypted at rest, and still usable after the encryption key rotates."""

from cryptography import x509
from cryptography.fernet import Fernet
from django.core.management import call_command

from ssoapps.models import SigningKey
from ssoapps.saml.signing import signing_key_cache_clear
from tests.ssoapps.factories import application_in
from tests.ssoapps.saml_helpers import posted_form


def test_each_application_gets_its_own_rsa_2048_key(org):
    first, second = application_in(org, label="One"), application_in(org, label="Two")
    a, b = first.signing_keys.get(state="active"), second.signing_keys.get(state="active")
    assert a.fingerprint != b.fingerprint
    assert x509.load_pem_x509_certificate(a.certificate.encode()).public_key().key_size == 2048


def test_signing_still_works_after_the_field_encryption_key_rotates(client, settings, member, application):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    signing_key_cache_clear()  # as in a freshly started process
    key = SigningKey.objects.get(application=application)
    assert "PRIVATE KEY" in key.private_key
    client.force_login(member)
    assert "SAMLResponse" in posted_form(client.get(f"/saml2/{application.idp_slug}"))
