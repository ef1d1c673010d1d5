"""The SAML engine on its own: plain values in, bytes out; no HTTP, no database, no Django."""

import base64
import datetime as dt
import subprocess
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest
import xmlsec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from ssoapps.keys import keypair_generate
from ssoapps.saml import errors, signing
from ssoapps.saml.authn_request import SpSettings, authn_request_parse
from ssoapps.saml.constants import BINDING_POST, BINDING_REDIRECT, NS_DS, NS_SAML, NS_SAMLP, SIGNATURE_ALGORITHMS
from ssoapps.saml.errors import SamlRefusal
from ssoapps.saml.metadata import idp_metadata_build
from ssoapps.saml.response import ResponseSpec, response_build
from tests.ssoapps.saml_helpers import authn_request_xml, post_form, redirect_query

ROOT = Path(__file__).resolve().parents[2]
SSO_URL = "https://idp.example.test/saml2/demo"
SP_ENTITY_ID = "https://sp.example.test/saml2/metadata/"
ACS = ("https://sp.example.test/saml2/acs/", "https://sp.example.test/saml2/acs-alt/")


@pytest.fixture(scope="module")
def idp_pair():
    return keypair_generate(common_name="engine idp")


@pytest.fixture(scope="module")
def sp_pair():
    return keypair_generate(common_name="engine sp")


def _idp_key(pair) -> xmlsec.Key:
    return signing.signing_key_load(f"engine:{pair.fingerprint}", lambda: (pair.private_key, pair.certificate))


def _spec(**overrides) -> ResponseSpec:
    values = {
        "issuer": "https://idp.example.test/saml2/demo/metadata",
        "destination": ACS[0],
        "audience": SP_ENTITY_ID,
        "name_id": "alice@org-a.test",
        "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "in_response_to": "_request-1",
        "attributes": [("email", ["alice@org-a.test"]), ("groups", ["Engineering", "Support"])],
    }
    return ResponseSpec(**{**values, **overrides})


def _verify(signed: etree._Element, certificate_pem: str) -> None:
    """Verify the enveloped signature directly inside `signed` with the IdP certificate, as an SP would."""
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(certificate_pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
    for element in signed.getroottree().iter(f"{{{NS_SAMLP}}}Response", f"{{{NS_SAML}}}Assertion"):
        ctx.register_id(element, "ID")
    ctx.verify(signed.find(f"{{{NS_DS}}}Signature"))


def test_built_response_signed_twice_verifies_and_says_what_the_spec_says(idp_pair):
    response = etree.fromstring(response_build(_spec(), key=_idp_key(idp_pair)))
    assertion = response.find(f"{{{NS_SAML}}}Assertion")
    _verify(response, idp_pair.certificate)
    _verify(assertion, idp_pair.certificate)
    assert response.get("Destination") == ACS[0] and response.get("InResponseTo") == "_request-1"
    assert assertion.findtext(f"{{{NS_SAML}}}Subject/{{{NS_SAML}}}NameID") == "alice@org-a.test"
    assert assertion.findtext(f".//{{{NS_SAML}}}Audience") == SP_ENTITY_ID
    values = {a.get("Name"): [v.text for v in a] for a in assertion.iterfind(f".//{{{NS_SAML}}}Attribute")}
    assert values == {"email": ["alice@org-a.test"], "groups": ["Engineering", "Support"]}


def test_a_response_changed_after_signing_no_longer_verifies(idp_pair):
    response = etree.fromstring(response_build(_spec(sign_assertion=False), key=_idp_key(idp_pair)))
    response.find(f".//{{{NS_SAML}}}NameID").text = "mallory@org-a.test"
    with pytest.raises(xmlsec.Error):
        _verify(response, idp_pair.certificate)


def test_a_response_signed_by_another_key_does_not_verify(idp_pair, sp_pair):
    response = etree.fromstring(response_build(_spec(sign_assertion=False), key=_idp_key(sp_pair)))
    with pytest.raises(xmlsec.Error):
        _verify(response, idp_pair.certificate)


def test_unsigned_response_has_no_signature_and_signing_without_a_key_is_an_error():
    response = etree.fromstring(response_build(_spec(sign_response=False, sign_assertion=False), key=None))
    assert response.find(f".//{{{NS_DS}}}Signature") is None
    with pytest.raises(ValueError, match="signing key"):
        response_build(_spec(), key=None)


def test_metadata_publishes_each_certificate_and_both_bindings(idp_pair, sp_pair):
    document = etree.fromstring(
        idp_metadata_build(
            entity_id="https://idp.example.test/e",
            sso_url=SSO_URL,
            certificates=[idp_pair.certificate, sp_pair.certificate],
            nameid_formats=["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
        )
    )
    bodies = [e.text for e in document.iter(f"{{{NS_DS}}}X509Certificate")]
    assert len(bodies) == 2 and "BEGIN" not in bodies[0]
    assert bodies[0] in idp_pair.certificate.replace("\n", "")
    sso = [e.get("Binding") for e in document.iter() if e.tag.endswith("SingleSignOnService")]
    assert sso == [BINDING_REDIRECT, BINDING_POST]


# --- AuthnRequests, both bindings, without HTTP


def _sp(certificate: str = "") -> SpSettings:
    return SpSettings(sso_url=SSO_URL, sp_entity_id=SP_ENTITY_ID, acs_urls=ACS, sp_certificate=certificate)


def _request_xml(**fields) -> str:
    return authn_request_xml(SimpleNamespace(sso_url=SSO_URL), issuer=SP_ENTITY_ID, **fields)


def _signed_post(sp_pair, **fields) -> str:
    root = etree.fromstring(_request_xml(**fields).encode())
    key = xmlsec.Key.from_memory(sp_pair.private_key.encode(), xmlsec.constants.KeyDataFormatPem)
    signing.sign(root, key=key, algorithm="rsa-sha256", after=root.find(f"{{{NS_SAML}}}Issuer"))
    return base64.b64encode(etree.tostring(root)).decode()


def _signed_redirect(sp_pair, xml: str, relay_state: str) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(xml.encode()) + compressor.flush()
    signed_part = urlencode(
        {
            "SAMLRequest": base64.b64encode(deflated).decode(),
            "RelayState": relay_state,
            "SigAlg": SIGNATURE_ALGORITHMS["rsa-sha256"][0],
        }
    )
    key = serialization.load_pem_private_key(sp_pair.private_key.encode(), password=None)
    signature = key.sign(signed_part.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signed_part}&Signature={quote(base64.b64encode(signature).decode(), safe='')}"


def test_unsigned_redirect_request_is_read():
    query = redirect_query(_request_xml(request_id="_r1", acs_url=ACS[1]), relay_state="/after")
    authn = authn_request_parse(sp=_sp(), binding=BINDING_REDIRECT, query_string=query)
    assert (authn.id, authn.issuer, authn.acs_url, authn.relay_state) == ("_r1", SP_ENTITY_ID, ACS[1], "/after")


def test_unsigned_post_request_without_acs_gets_the_first_registered_one():
    form = post_form(_request_xml(request_id="_p1", acs_url=None), relay_state="x")
    authn = authn_request_parse(sp=_sp(), binding=BINDING_POST, saml_request=form["SAMLRequest"], relay_state="x")
    assert (authn.id, authn.acs_url, authn.binding) == ("_p1", ACS[0], BINDING_POST)


def test_signed_redirect_request_verifies_and_a_changed_one_does_not(sp_pair):
    query = _signed_redirect(sp_pair, _request_xml(request_id="_s1"), "/r")
    sp = _sp(sp_pair.certificate)
    assert authn_request_parse(sp=sp, binding=BINDING_REDIRECT, query_string=query).id == "_s1"
    with pytest.raises(SamlRefusal) as refused:
        authn_request_parse(
            sp=sp, binding=BINDING_REDIRECT, query_string=query.replace("RelayState=%2Fr", "RelayState=%2Fx")
        )
    assert refused.value.reason == errors.BAD_SIGNATURE


def test_signed_post_request_verifies_and_an_unsigned_one_is_refused(sp_pair):
    sp = _sp(sp_pair.certificate)
    authn = authn_request_parse(sp=sp, binding=BINDING_POST, saml_request=_signed_post(sp_pair, request_id="_s2"))
    assert authn.id == "_s2"
    unsigned = post_form(_request_xml())["SAMLRequest"]
    with pytest.raises(SamlRefusal) as refused:
        authn_request_parse(sp=sp, binding=BINDING_POST, saml_request=unsigned)
    assert refused.value.reason == errors.SIGNATURE_MISSING


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"issuer": "https://evil.example.test/"}, errors.WRONG_ISSUER),
        ({"acs_url": "https://evil.example.test/acs"}, errors.UNKNOWN_ACS),
        ({"issue_instant": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)}, errors.EXPIRED),
    ],
)
def test_request_refusals_carry_their_reason(fields, reason):
    xml = authn_request_xml(SimpleNamespace(sso_url=SSO_URL), **{"issuer": SP_ENTITY_ID, **fields})
    with pytest.raises(SamlRefusal) as refused:
        authn_request_parse(sp=_sp(), binding=BINDING_POST, saml_request=post_form(xml)["SAMLRequest"])
    assert refused.value.reason == reason
    assert refused.value.message.endswith(".")


def test_the_protocol_package_imports_nothing_of_django_nor_of_ssoapps_outside_saml():
    code = (
        "import sys, pkgutil, importlib, ssoapps.saml as p\n"
        "for m in pkgutil.iter_modules(p.__path__): importlib.import_module('ssoapps.saml.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] == 'django' or "
        "(n.startswith('ssoapps.') and not n.startswith('ssoapps.saml')))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
