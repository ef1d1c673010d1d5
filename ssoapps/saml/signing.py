"""XML signatures with python-xmlsec, in-process: sign with a cached loaded key, verify against one certificate."""

import base64
import threading
from collections.abc import Callable

import xmlsec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from . import errors
from .constants import (
    ACCEPTED_DIGEST_URIS,
    ACCEPTED_REQUEST_SIGNATURE_URIS,
    ALG_ENVELOPED,
    ALG_EXC_C14N,
    NS_DS,
    SIGNATURE_ALGORITHM_BY_URI,
)

_SIGN_TRANSFORMS = {
    "rsa-sha1": xmlsec.constants.TransformRsaSha1,
    "rsa-sha256": xmlsec.constants.TransformRsaSha256,
    "rsa-sha384": xmlsec.constants.TransformRsaSha384,
    "rsa-sha512": xmlsec.constants.TransformRsaSha512,
}
_DIGEST_TRANSFORMS = {
    "rsa-sha1": xmlsec.constants.TransformSha1,
    "rsa-sha256": xmlsec.constants.TransformSha256,
    "rsa-sha384": xmlsec.constants.TransformSha384,
    "rsa-sha512": xmlsec.constants.TransformSha512,
}

# Loading a PEM key into xmlsec costs ~70 ms; signing with it ~2 ms. Keys are cached per version
# (pk + certificate fingerprint), so a promoted or replaced key is loaded afresh.
_key_cache: dict[str, xmlsec.Key] = {}
_key_cache_lock = threading.Lock()
KEY_CACHE_SIZE = 512


def signing_key_load(version: str, load_pems: Callable[[], tuple[str, str]]) -> xmlsec.Key:
    """The xmlsec key for this key version; `load_pems()` → (private PEM, cert PEM) is called only on a miss."""
    key = _key_cache.get(version)
    if key is not None:
        return key
    private_pem, cert_pem = load_pems()
    key = xmlsec.Key.from_memory(private_pem.encode(), xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(cert_pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
    with _key_cache_lock:
        if len(_key_cache) >= KEY_CACHE_SIZE:
            _key_cache.pop(next(iter(_key_cache)))
        _key_cache[version] = key
    return key


def signing_key_cache_clear() -> None:
    """Forget every loaded key (a new process starts this way)."""
    with _key_cache_lock:
        _key_cache.clear()


def sign(element: etree._Element, *, key: xmlsec.Key, algorithm: str, after: etree._Element) -> None:
    """Add an enveloped signature over `element` (referenced by its ID), placed right after `after`."""
    signature = xmlsec.template.create(
        element, xmlsec.constants.TransformExclC14N, _SIGN_TRANSFORMS[algorithm], ns="ds"
    )
    after.addnext(signature)
    ref = xmlsec.template.add_reference(signature, _DIGEST_TRANSFORMS[algorithm], uri="#" + element.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    x509_data = xmlsec.template.add_x509_data(key_info)
    xmlsec.template.x509_data_add_certificate(x509_data)
    ctx = xmlsec.SignatureContext()
    ctx.register_id(element, "ID")
    ctx.key = key
    ctx.sign(signature)


def _bad_signature(message: str) -> errors.SamlRefusal:
    return errors.SamlRefusal(errors.BAD_SIGNATURE, message)


def verify_enveloped(root: etree._Element, *, certificate_pem: str) -> None:
    """Check the enveloped signature of `root` against this certificate only.

    Refuses signature wrapping: the document must hold exactly one ds:Signature, as a direct child of
    the root, with exactly one Reference whose URI is the root's own ID, and only the enveloped and
    exclusive-c14n transforms; so what the caller reads afterwards (the root) is what was signed.
    """
    signatures = root.findall(f".//{{{NS_DS}}}Signature")
    if not signatures:
        raise errors.SamlRefusal(
            errors.SIGNATURE_MISSING,
            "The app sent an unsigned sign-in request, but it is configured to sign them. "
            "Ask the app's administrator to check its SAML settings.",
        )
    signature = signatures[0]
    root_id = root.get("ID")
    wrong = "The sign-in request's signature does not cover the request itself. The request was refused."
    if len(signatures) != 1 or signature.getparent() is not root or not root_id:
        raise _bad_signature(wrong)
    references = signature.findall(f"{{{NS_DS}}}SignedInfo/{{{NS_DS}}}Reference")
    if len(references) != 1 or references[0].get("URI") != "#" + root_id:
        raise _bad_signature(wrong)
    transforms = [t.get("Algorithm") for t in references[0].findall(f"{{{NS_DS}}}Transforms/{{{NS_DS}}}Transform")]
    if any(t not in (ALG_ENVELOPED, ALG_EXC_C14N) for t in transforms):
        raise _bad_signature(wrong)
    method = signature.find(f"{{{NS_DS}}}SignedInfo/{{{NS_DS}}}SignatureMethod")
    digest = references[0].find(f"{{{NS_DS}}}DigestMethod")
    if (
        method is None
        or method.get("Algorithm") not in ACCEPTED_REQUEST_SIGNATURE_URIS
        or digest is None
        or digest.get("Algorithm") not in ACCEPTED_DIGEST_URIS
    ):
        raise _bad_signature("The sign-in request was signed with an algorithm Lanyard does not accept (use SHA-256).")
    ctx = xmlsec.SignatureContext()
    try:
        ctx.key = xmlsec.Key.from_memory(certificate_pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
    except xmlsec.Error as exc:
        raise _bad_signature(
            "The SP certificate configured for this app cannot be read. Ask your administrator."
        ) from exc
    ctx.register_id(root, "ID")
    try:
        ctx.verify(signature)
    except xmlsec.Error as exc:
        raise _bad_signature(
            "The sign-in request's signature is not valid for this app's certificate. The request was refused."
        ) from exc


def verify_redirect(*, signed_part: bytes, signature_b64: str, sig_alg: str, certificate_pem: str) -> None:
    """Check an HTTP-Redirect binding signature over the query-string part it covers."""
    if sig_alg not in ACCEPTED_REQUEST_SIGNATURE_URIS:
        raise _bad_signature("The sign-in request was signed with an algorithm Lanyard does not accept (use SHA-256).")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    except ValueError as exc:
        raise _bad_signature("The sign-in request's signature could not be read. The request was refused.") from exc
    hash_algorithm = getattr(hashes, SIGNATURE_ALGORITHM_BY_URI[sig_alg][1].upper())()
    try:
        public_key.verify(signature, signed_part, padding.PKCS1v15(), hash_algorithm)
    except (InvalidSignature, TypeError) as exc:
        raise _bad_signature(
            "The sign-in request's signature is not valid for this app's certificate. The request was refused."
        ) from exc
