"""RSA key pairs and self-signed certificates for the IdP, made with `cryptography`."""

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CERTIFICATE_YEARS = 10


@dataclass(frozen=True)
class KeyPair:
    """A PEM private key, its PEM certificate, the certificate's SHA-256 fingerprint and expiry."""

    private_key: str
    certificate: str
    fingerprint: str
    not_after: dt.datetime


def certificate_describe(certificate_pem: str) -> tuple[str, dt.datetime]:
    """(SHA-256 fingerprint as AA:BB:…, expiry) of a PEM certificate; ValueError when it is not one."""
    cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)), cert.not_valid_after_utc


def keypair_generate(*, common_name: str) -> KeyPair:
    """A fresh RSA-2048 key with a self-signed certificate valid for ten years."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "Lanyard IdP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    fingerprint, not_after = certificate_describe(cert_pem)
    return KeyPair(private_key=private_pem, certificate=cert_pem, fingerprint=fingerprint, not_after=not_after)


def keypair_check(*, private_key: str, certificate: str) -> KeyPair:
    """Validate an uploaded key pair: an unencrypted RSA key (2048 bits or more) matching the certificate."""
    try:
        key = serialization.load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError("The private key is not an unencrypted PEM key. Export it without a passphrase.") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise ValueError("The private key must be an RSA key of at least 2048 bits.")
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError as exc:
        raise ValueError("The certificate is not a PEM certificate.") from exc
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise ValueError("The certificate does not belong to this private key. Upload the matching pair.")
    fingerprint, not_after = certificate_describe(certificate)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return KeyPair(
        private_key=private_pem, certificate=certificate.strip() + "\n", fingerprint=fingerprint, not_after=not_after
    )
