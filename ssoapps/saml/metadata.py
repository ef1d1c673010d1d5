"""IdP metadata for an application, and reading an SP's metadata to fill an application's fields."""

from dataclasses import dataclass

from lxml import etree

from . import xml
from .constants import BINDING_POST, BINDING_REDIRECT, NS_DS, NS_MD

_NSMAP = {"md": NS_MD, "ds": NS_DS}


def certificate_body(certificate_pem: str) -> str:
    """The base64 body of a PEM certificate, as it goes into <ds:X509Certificate>."""
    lines = [line.strip() for line in certificate_pem.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))


def idp_metadata_build(*, entity_id: str, sso_url: str, certificates: list[str], nameid_formats: list[str]) -> bytes:
    """The IdP's EntityDescriptor: SSO endpoints for both bindings and every published signing certificate."""
    root = etree.Element(f"{{{NS_MD}}}EntityDescriptor", {"entityID": entity_id}, nsmap=_NSMAP)
    idp = etree.SubElement(
        root,
        f"{{{NS_MD}}}IDPSSODescriptor",
        {"WantAuthnRequestsSigned": "false", "protocolSupportEnumeration": "urn:oasis:names:tc:SAML:2.0:protocol"},
    )
    for certificate in certificates:
        descriptor = etree.SubElement(idp, f"{{{NS_MD}}}KeyDescriptor", {"use": "signing"})
        key_info = etree.SubElement(descriptor, f"{{{NS_DS}}}KeyInfo")
        x509_data = etree.SubElement(key_info, f"{{{NS_DS}}}X509Data")
        etree.SubElement(x509_data, f"{{{NS_DS}}}X509Certificate").text = certificate_body(certificate)
    for nameid_format in nameid_formats:
        etree.SubElement(idp, f"{{{NS_MD}}}NameIDFormat").text = nameid_format
    for binding in (BINDING_REDIRECT, BINDING_POST):
        etree.SubElement(idp, f"{{{NS_MD}}}SingleSignOnService", {"Binding": binding, "Location": sso_url})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _index(value: str) -> int:
    """An endpoint's index attribute (an unsignedShort); anything else sorts as 0."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 5 else 0


@dataclass(frozen=True)
class SpMetadata:
    """What an SP's metadata tells us: entity ID, POST ACS URLs (default first), signing certificate."""

    entity_id: str
    acs_urls: list[str]
    certificate: str
    nameid_format: str


def sp_metadata_parse(document: bytes) -> SpMetadata:
    """Read an SP's metadata XML (hardened parser); raises SamlRefusal or ValueError with a sentence."""
    root = xml.parse(document)
    descriptor = root if root.tag == f"{{{NS_MD}}}EntityDescriptor" else root.find(f".//{{{NS_MD}}}EntityDescriptor")
    sp = descriptor.find(f"{{{NS_MD}}}SPSSODescriptor") if descriptor is not None else None
    if sp is None:
        raise ValueError("This file holds no SP metadata (no SPSSODescriptor). Upload the app's SAML SP metadata.")
    services = [s for s in sp.findall(f"{{{NS_MD}}}AssertionConsumerService") if s.get("Binding") == BINDING_POST]
    services.sort(key=lambda s: (s.get("isDefault") != "true", _index(s.get("index", "0"))))
    certificate = ""
    for key_descriptor in sp.findall(f"{{{NS_MD}}}KeyDescriptor"):
        if key_descriptor.get("use") in (None, "signing"):
            body = key_descriptor.findtext(f".//{{{NS_DS}}}X509Certificate") or ""
            body = "".join(body.split())
            if body:
                lines = [body[i : i + 64] for i in range(0, len(body), 64)]
                certificate = "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
                break
    nameid = (sp.findtext(f"{{{NS_MD}}}NameIDFormat") or "").strip()
    return SpMetadata(
        entity_id=descriptor.get("entityID", ""),
        # copied as written: the service that stores them checks them against the URL policy
        acs_urls=[s.get("Location") for s in services if s.get("Location")],
        certificate=certificate,
        nameid_format=nameid,
    )
