"""SAML Responses for the Web Browser SSO profile: built with lxml, signed in-process."""

import datetime as dt
import secrets
from dataclasses import dataclass, field

import xmlsec
from lxml import etree

from . import signing
from .constants import (
    AC_PASSWORD_PROTECTED,
    ATTRNAME_FORMAT_BASIC,
    CM_BEARER,
    NS_DS,
    NS_SAML,
    NS_SAMLP,
    NS_XS,
    NS_XSI,
    STATUS_SUCCESS,
)

VALIDITY = dt.timedelta(minutes=3)  # how long the SP may consume the assertion
CLOCK_SKEW = dt.timedelta(seconds=10)  # NotBefore lies this far in the past, for SPs whose clock runs ahead

_NSMAP = {"samlp": NS_SAMLP, "saml": NS_SAML, "ds": NS_DS, "xs": NS_XS, "xsi": NS_XSI}
_XSI_TYPE = f"{{{NS_XSI}}}type"


def new_id() -> str:
    """A fresh SAML ID (an NCName: it starts with a letter or underscore)."""
    return "_" + secrets.token_hex(20)


def _instant(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ResponseSpec:
    """Everything a Response says: who issues it, for which SP, about which user."""

    issuer: str
    destination: str
    audience: str
    name_id: str
    name_id_format: str
    in_response_to: str | None = None
    attributes: list[tuple[str, list[str]]] = field(default_factory=list)
    sign_response: bool = True
    sign_assertion: bool = True
    algorithm: str = "rsa-sha256"


def _sub(parent, ns: str, tag: str, text: str | None = None, **attrs) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def response_build(spec: ResponseSpec, *, key: xmlsec.Key | None, now: dt.datetime | None = None) -> bytes:
    """The serialized Response for this spec, with Response and/or Assertion signed as asked."""
    now = now or dt.datetime.now(dt.UTC)
    issued, not_before, not_on_or_after = _instant(now), _instant(now - CLOCK_SKEW), _instant(now + VALIDITY)
    response = etree.Element(
        f"{{{NS_SAMLP}}}Response",
        {"ID": new_id(), "Version": "2.0", "IssueInstant": issued, "Destination": spec.destination},
        nsmap=_NSMAP,
    )
    if spec.in_response_to:
        response.set("InResponseTo", spec.in_response_to)
    response_issuer = _sub(response, NS_SAML, "Issuer", spec.issuer)
    status = _sub(response, NS_SAMLP, "Status")
    _sub(status, NS_SAMLP, "StatusCode", Value=STATUS_SUCCESS)

    assertion = _sub(response, NS_SAML, "Assertion", ID=new_id(), Version="2.0", IssueInstant=issued)
    assertion_issuer = _sub(assertion, NS_SAML, "Issuer", spec.issuer)
    subject = _sub(assertion, NS_SAML, "Subject")
    _sub(subject, NS_SAML, "NameID", spec.name_id, Format=spec.name_id_format)
    confirmation = _sub(subject, NS_SAML, "SubjectConfirmation", Method=CM_BEARER)
    _sub(
        confirmation,
        NS_SAML,
        "SubjectConfirmationData",
        NotOnOrAfter=not_on_or_after,
        Recipient=spec.destination,
        InResponseTo=spec.in_response_to,
    )
    conditions = _sub(assertion, NS_SAML, "Conditions", NotBefore=not_before, NotOnOrAfter=not_on_or_after)
    restriction = _sub(conditions, NS_SAML, "AudienceRestriction")
    _sub(restriction, NS_SAML, "Audience", spec.audience)
    authn = _sub(assertion, NS_SAML, "AuthnStatement", AuthnInstant=issued, SessionIndex=new_id())
    context = _sub(authn, NS_SAML, "AuthnContext")
    _sub(context, NS_SAML, "AuthnContextClassRef", AC_PASSWORD_PROTECTED)
    if spec.attributes:
        statement = _sub(assertion, NS_SAML, "AttributeStatement")
        for name, values in spec.attributes:
            attribute = _sub(statement, NS_SAML, "Attribute", Name=name, NameFormat=ATTRNAME_FORMAT_BASIC)
            for value in values:
                _sub(attribute, NS_SAML, "AttributeValue", value).set(_XSI_TYPE, "xs:string")

    if spec.sign_assertion or spec.sign_response:
        if key is None:
            raise ValueError("A signing key is needed to sign the response.")
        if spec.sign_assertion:
            signing.sign(assertion, key=key, algorithm=spec.algorithm, after=assertion_issuer)
        if spec.sign_response:
            signing.sign(response, key=key, algorithm=spec.algorithm, after=response_issuer)
    return etree.tostring(response, xml_declaration=False, encoding="utf-8")
