"""Every bad input is refused with a clear page for the person, an sso_auth event for the admin, and no assertion."""

import base64
import copy
import datetime as dt
import zlib
from urllib.parse import urlencode

import pytest
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from directory import services as directory_services
from ssoapps import keys
from ssoapps.saml.errors import (
    APP_INACTIVE,
    BAD_REQUEST,
    BAD_SIGNATURE,
    NOT_AUTHORIZED,
    RELAY_STATE_TOO_LONG,
    REPLAY,
    SIGNATURE_MISSING,
    UNKNOWN_ACS,
    UNKNOWN_SLUG,
    USER_SUSPENDED,
    WRONG_ISSUER,
)
from ssoapps.saml.xml import MAX_ENCODED_BYTES
from ssoapps.services import application_deactivate
from tests.factories import UserFactory
from tests.ssoapps.saml_helpers import assert_refused, authn_request_xml, path_of, post_form, redirect_query

NS_DS = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


def _sso(application):
    return f"/saml2/{application.idp_slug}"


def test_unknown_slug(signed_in):
    response = signed_in.get("/saml2/no-such-app")
    event = assert_refused(response, UNKNOWN_SLUG, status=404)
    assert event.resource_name == "no-such-app"


def test_app_sso_deactivated(signed_in, application):
    application_deactivate(application=application)
    assert_refused(signed_in.get(_sso(application)), APP_INACTIVE, status=403)


def test_user_not_authorized(client, org, application):
    outsider = UserFactory(organization=org, email="mallory@org-a.test", username="mallory")
    client.force_login(outsider)
    response = client.get(_sso(application))
    event = assert_refused(response, NOT_AUTHORIZED, status=403)
    assert "not allowed to use Demo SP" in response.content.decode()
    assert event.initiator_email == "mallory@org-a.test"


def test_user_of_another_organization_not_authorized(client, other_org, application):
    stranger = UserFactory(organization=other_org, email="eve@org-b.test", username="eve")
    client.force_login(stranger)
    assert_refused(client.get(_sso(application)), NOT_AUTHORIZED, status=403)


def test_user_suspended(signed_in, member, application):
    directory_services.user_suspend(user=member)
    response = signed_in.get(_sso(application))
    assert_refused(response, USER_SUSPENDED, status=403)
    assert "suspended" in response.content.decode()


def test_malformed_request_not_xml(signed_in, application):
    response = signed_in.post(_sso(application), post_form("<samlp:AuthnRequest not xml"))
    assert_refused(response, BAD_REQUEST, status=400)


def test_malformed_request_not_base64(signed_in, application):
    response = signed_in.post(_sso(application), {"SAMLRequest": "%%% not base64 %%%"})
    assert_refused(response, BAD_REQUEST, status=400)


def test_request_that_is_not_an_authn_request(signed_in, application):
    xml = authn_request_xml(application).replace("AuthnRequest", "LogoutRequest")
    assert_refused(signed_in.post(_sso(application), post_form(xml)), BAD_REQUEST, status=400)


def test_oversized_request(signed_in, application):
    padding = "<saml:Conditions>" + "x" * 70_000 + "</saml:Conditions>"
    xml = authn_request_xml(application, extra=padding)
    assert_refused(signed_in.post(_sso(application), post_form(xml)), BAD_REQUEST, status=400)


def test_request_with_dtd_and_entities(signed_in, application):
    dtd = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    xml = authn_request_xml(application, prefix=dtd, issuer="&b;")
    response = signed_in.post(_sso(application), post_form(xml))
    assert_refused(response, BAD_REQUEST, status=400)
    assert "document type declaration" in response.content.decode()


def test_request_with_external_entity(signed_in, application):
    xml = authn_request_xml(application, prefix='<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', issuer="&x;")
    response = signed_in.get(_sso(application) + "?" + redirect_query(xml))
    assert_refused(response, BAD_REQUEST, status=400)
    assert "root:" not in response.content.decode()


def test_deflate_bomb_is_not_inflated_without_bound(signed_in, application):
    # 20 MB of zeros deflates to ~20 KB, well under the encoded-size cap: the inflater itself must stop
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(b"<a>" + b"0" * 20_000_000) + compressor.flush()
    encoded = base64.b64encode(bomb).decode()
    assert len(encoded) < MAX_ENCODED_BYTES
    query = urlencode({"SAMLRequest": encoded})
    response = signed_in.get(_sso(application) + "?" + query)
    assert_refused(response, BAD_REQUEST, status=400)
    assert "too large" in response.content.decode()


# --- signatures ------------------------------------------------------------------------------------


@pytest.fixture
def signing_app(application, sp_keypair):
    """The app, configured with the SP's certificate: its requests must be signed by that key."""
    application.sp_certificate = sp_keypair.certificate
    application.save()
    return application


def test_signature_missing_redirect(signed_in, signing_app):
    response = signed_in.get(_sso(signing_app) + "?" + redirect_query(authn_request_xml(signing_app)))
    assert_refused(response, SIGNATURE_MISSING, status=400)


def test_signature_missing_post(signed_in, signing_app):
    response = signed_in.post(_sso(signing_app), post_form(authn_request_xml(signing_app)))
    assert_refused(response, SIGNATURE_MISSING, status=400)


def test_signature_by_another_key_redirect(signed_in, signing_app, make_sp):
    impostor = make_sp(signing_app, keypair=keys.keypair_generate(common_name="impostor"), sign_requests=True)
    _, info = impostor.prepare_for_authenticate(
        entityid=signing_app.issuer, binding=BINDING_HTTP_REDIRECT, sign=True, sigalg=SIG_RSA_SHA256
    )
    response = signed_in.get(path_of(dict(info["headers"])["Location"]))
    assert_refused(response, BAD_SIGNATURE, status=400)


def test_signature_by_another_key_post(signed_in, signing_app, make_sp):
    impostor = make_sp(signing_app, keypair=keys.keypair_generate(common_name="impostor"), sign_requests=True)
    _, request = impostor.create_authn_request(
        signing_app.sso_url, binding=BINDING_HTTP_POST, sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    response = signed_in.post(_sso(signing_app), post_form(str(request)))
    assert_refused(response, BAD_SIGNATURE, status=400)


def test_redirect_query_tampered_after_signing(signed_in, signing_app, make_sp, sp_keypair):
    sp = make_sp(signing_app, keypair=sp_keypair, sign_requests=True)
    _, info = sp.prepare_for_authenticate(
        entityid=signing_app.issuer, relay_state="good", binding=BINDING_HTTP_REDIRECT, sign=True, sigalg=SIG_RSA_SHA256
    )
    location = dict(info["headers"])["Location"].replace("RelayState=good", "RelayState=evil")
    assert_refused(signed_in.get(path_of(location)), BAD_SIGNATURE, status=400)


def _signed_post_request(sp, application) -> etree._Element:
    _, request = sp.create_authn_request(
        application.sso_url, binding=BINDING_HTTP_POST, sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    return etree.fromstring(str(request).encode())


def test_signature_wrapping_signed_request_hidden_inside(signed_in, signing_app, make_sp, sp_keypair):
    """An attacker's request (other ACS) wraps the genuinely signed one; the signature does not cover the root."""
    original = _signed_post_request(make_sp(signing_app, keypair=sp_keypair, sign_requests=True), signing_app)
    evil = copy.deepcopy(original)
    evil.remove(evil.find(f"{{{NS_DS}}}Signature"))
    evil.set("ID", "_evil")
    evil.set("AssertionConsumerServiceURL", "https://attacker.example/acs")
    extensions = etree.SubElement(evil, "{urn:oasis:names:tc:SAML:2.0:protocol}Extensions")
    extensions.append(original)
    response = signed_in.post(_sso(signing_app), post_form(etree.tostring(evil)))
    assert_refused(response, BAD_SIGNATURE, status=400)


def test_signature_wrapping_signature_moved_to_attacker_root(signed_in, signing_app, make_sp, sp_keypair):
    """The genuine signature sits on an attacker's root and still references the original (now hidden) element."""
    original = _signed_post_request(make_sp(signing_app, keypair=sp_keypair, sign_requests=True), signing_app)
    signature = original.find(f"{{{NS_DS}}}Signature")
    evil = copy.deepcopy(original)
    evil.remove(evil.find(f"{{{NS_DS}}}Signature"))
    evil.set("ID", "_evil")
    evil.set("AssertionConsumerServiceURL", "https://attacker.example/acs")
    original.remove(signature)
    evil.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer").addnext(signature)
    extensions = etree.SubElement(evil, "{urn:oasis:names:tc:SAML:2.0:protocol}Extensions")
    extensions.append(original)
    response = signed_in.post(_sso(signing_app), post_form(etree.tostring(evil)))
    assert_refused(response, BAD_SIGNATURE, status=400)


def test_signed_content_changed_after_signing(signed_in, signing_app, make_sp, sp_keypair):
    original = _signed_post_request(make_sp(signing_app, keypair=sp_keypair, sign_requests=True), signing_app)
    original.set("AssertionConsumerServiceURL", "https://sp.example.test/saml2/acs-alt/")  # a registered one, even
    response = signed_in.post(_sso(signing_app), post_form(etree.tostring(original)))
    assert_refused(response, BAD_SIGNATURE, status=400)


# --- request content -------------------------------------------------------------------------------


def test_acs_url_not_registered(signed_in, application):
    xml = authn_request_xml(application, acs_url="https://attacker.example/acs")
    response = signed_in.get(_sso(application) + "?" + redirect_query(xml))
    assert_refused(response, UNKNOWN_ACS, status=400)


def test_relay_state_over_80_bytes(signed_in, application):
    response = signed_in.post(_sso(application), post_form(authn_request_xml(application), relay_state="r" * 81))
    assert_refused(response, RELAY_STATE_TOO_LONG, status=400)


def test_relay_state_of_80_bytes_is_fine(signed_in, application):
    response = signed_in.post(_sso(application), post_form(authn_request_xml(application), relay_state="r" * 80))
    assert response.status_code == 200 and "SAMLResponse" in response.content.decode()


def test_replayed_request_id(signed_in, application):
    xml = authn_request_xml(application, request_id="_once")
    first = signed_in.get(_sso(application) + "?" + redirect_query(xml))
    assert first.status_code == 200 and "SAMLResponse" in first.content.decode()
    replay = signed_in.post(_sso(application), post_form(xml))
    assert_refused(replay, REPLAY, status=400)


def test_old_request_is_refused_so_replays_cannot_outlive_the_answered_ids(signed_in, application):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    response = signed_in.post(_sso(application), post_form(authn_request_xml(application, issue_instant=old)))
    assert_refused(response, "expired", status=400)


def test_issuer_is_not_the_sp_entity_id(signed_in, application):
    xml = authn_request_xml(application, issuer="https://other-sp.example/metadata")
    assert_refused(signed_in.post(_sso(application), post_form(xml)), WRONG_ISSUER, status=400)


def test_bad_request_from_anonymous_is_refused_before_login(client, application):
    """A bad request is not parked: the person learns at once, without signing in first."""
    xml = authn_request_xml(application, acs_url="https://attacker.example/acs")
    assert_refused(client.post(_sso(application), post_form(xml)), UNKNOWN_ACS, status=400)
