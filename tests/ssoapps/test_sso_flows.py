"""A real SAML SP (pysaml2's client) signs users in through Lanyard, IdP- and SP-initiated, with both bindings."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from insights.models import Event
from ssoapps.services import signing_key_create, signing_key_promote
from tests.ssoapps.factories import SP_ACS_URL, SP_ACS_URL_2, SP_ENTITY_ID
from tests.ssoapps.saml_helpers import path_of, posted_form


def _consume(sp, form, *, outstanding=None):
    """What the SP does at its ACS: verify the signature(s), destination, audience, InResponseTo and times."""
    return sp.parse_authn_request_response(form["SAMLResponse"], BINDING_HTTP_POST, outstanding=outstanding)


def _assert_signed_in(authn_response, member, application):
    assert authn_response.name_id.text == member.email
    assert authn_response.name_id.format == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    assert authn_response.ava["email"] == [member.email]
    assert authn_response.ava["givenName"] == ["Alice"]
    assert authn_response.ava["plan"] == ["enterprise"]
    assert authn_response.ava["groups"] == ["Engineering"]
    assertion = authn_response.assertion
    assert [a.text for a in assertion.conditions.audience_restriction[0].audience] == [SP_ENTITY_ID]
    assert authn_response.response.issuer.text == application.issuer


@pytest.mark.parametrize(
    ("sign_response", "sign_assertion"),
    [(True, True), (True, False), (False, True)],
    ids=["both", "response", "assertion"],
)
def test_idp_initiated_launch_is_accepted_by_a_real_sp(
    client, member, application, make_sp, sign_response, sign_assertion
):
    application.sign_response, application.sign_assertion = sign_response, sign_assertion
    application.default_relay_state = "/dashboard"
    application.save()
    sp = make_sp(application, want_response_signed=sign_response, want_assertions_signed=sign_assertion)
    client.force_login(member)

    page = client.get(f"/saml2/{application.idp_slug}")

    assert page.status_code == 200
    body = page.content.decode()
    assert "/static/ssoapps/saml-post.js" in body and "Continue to Demo SP</button>" in body  # and without JS
    form = posted_form(page)
    assert form["action"] == SP_ACS_URL  # the default (first) ACS URL
    assert form["RelayState"] == "/dashboard"
    result = _consume(sp, form)
    _assert_signed_in(result, member, application)
    assert result.response.destination == SP_ACS_URL
    assert result.response.in_response_to is None
    event = Event.objects.get(event_type="sso_auth")
    assert event.success and event.initiator_email == member.email and event.resource_name == "Demo SP"


def test_unsigned_response_is_refused_by_the_sp_that_wants_signatures(client, member, application, make_sp):
    """Guards the test setup: the SP really checks signatures, so the tests above prove something."""
    application.sign_response = application.sign_assertion = False
    application.save()
    sp = make_sp(application)
    client.force_login(member)
    form = posted_form(client.get(f"/saml2/{application.idp_slug}"))
    with pytest.raises(Exception):  # noqa: B017 - pysaml2 raises several types for an unsigned response
        _consume(sp, form)


def test_sp_initiated_redirect_binding_signed(client, member, application, make_sp, sp_keypair):
    application.sp_certificate = sp_keypair.certificate
    application.save()
    sp = make_sp(application, keypair=sp_keypair, sign_requests=True)
    request_id, info = sp.prepare_for_authenticate(
        entityid=application.issuer,
        relay_state="state-42",
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    location = dict(info["headers"])["Location"]
    assert urlsplit(location).path == f"/saml2/{application.idp_slug}"
    assert "Signature" in parse_qs(urlsplit(location).query)
    client.force_login(member)

    page = client.get(path_of(location))

    assert page.status_code == 200, page.content
    form = posted_form(page)
    assert form["RelayState"] == "state-42"
    result = _consume(sp, form, outstanding={request_id: "/"})
    _assert_signed_in(result, member, application)
    assert result.response.in_response_to == request_id
    assert result.assertion.subject.subject_confirmation[0].subject_confirmation_data.in_response_to == request_id
    assert result.assertion.subject.subject_confirmation[0].subject_confirmation_data.recipient == SP_ACS_URL


def test_sp_initiated_post_binding_signed_to_second_acs(client, member, application, make_sp, sp_keypair):
    application.sp_certificate = sp_keypair.certificate
    application.save()
    sp = make_sp(application, keypair=sp_keypair, sign_requests=True)
    request_id, request = sp.create_authn_request(
        application.sso_url,
        binding=BINDING_HTTP_POST,
        sign=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        assertion_consumer_service_url=SP_ACS_URL_2,
    )
    client.force_login(member)

    page = client.post(
        f"/saml2/{application.idp_slug}",
        {"SAMLRequest": base64.b64encode(str(request).encode()).decode(), "RelayState": "xyz"},
    )

    assert page.status_code == 200, page.content
    form = posted_form(page)
    assert form["action"] == SP_ACS_URL_2
    result = _consume(sp, form, outstanding={request_id: "/"})
    _assert_signed_in(result, member, application)
    assert result.response.destination == SP_ACS_URL_2
    assert result.response.in_response_to == request_id


def test_anonymous_post_is_parked_and_resumed_after_login(client, member, application, make_sp):
    """The SP's cross-site POST arrives without the session cookie; the request survives the login redirect."""
    sp = make_sp(application)
    request_id, request = sp.create_authn_request(application.sso_url, binding=BINDING_HTTP_POST)
    saml_request = base64.b64encode(str(request).encode()).decode()

    to_login = client.post(f"/saml2/{application.idp_slug}", {"SAMLRequest": saml_request, "RelayState": "after"})

    assert to_login.status_code == 302
    login_url = urlsplit(to_login.url)
    assert login_url.path == "/admin/login/" or login_url.path.endswith("login/")
    resume = parse_qs(login_url.query)["next"][0]
    assert resume.startswith(f"/saml2/{application.idp_slug}/resume/")
    assert saml_request not in resume  # parked server-side, not carried in the URL

    client.force_login(member)  # what the login page does, then it redirects to `next`
    page = client.get(resume)

    assert page.status_code == 200, page.content
    form = posted_form(page)
    assert form["RelayState"] == "after"
    result = _consume(sp, form, outstanding={request_id: "/"})
    assert result.response.in_response_to == request_id
    assert result.name_id.text == member.email
    # a parked request is used once
    again = client.get(resume)
    assert again.status_code == 400 and "SAMLResponse" not in again.content.decode()


def test_anonymous_redirect_binding_is_parked_and_resumed(client, member, application, make_sp):
    sp = make_sp(application)
    request_id, info = sp.prepare_for_authenticate(entityid=application.issuer, relay_state="r")
    to_login = client.get(path_of(dict(info["headers"])["Location"]))
    assert to_login.status_code == 302
    resume = parse_qs(urlsplit(to_login.url).query)["next"][0]
    client.force_login(member)
    result = _consume(sp, posted_form(client.get(resume)), outstanding={request_id: "/"})
    assert result.response.in_response_to == request_id


def test_anonymous_idp_initiated_launch_goes_to_login_and_back(client, application):
    response = client.get(f"/saml2/{application.idp_slug}")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.url).query)["next"] == [f"/saml2/{application.idp_slug}"]


def test_metadata_lists_staged_key_and_sp_accepts_the_promoted_one(client, member, application, make_sp):
    old = application.signing_keys.get(state="active")
    staged = signing_key_create(application=application)
    metadata = client.get(f"/saml2/{application.idp_slug}/metadata").content.decode()
    body = lambda pem: "".join(pem.strip().splitlines()[1:-1])  # noqa: E731
    assert body(old.certificate) in metadata and body(staged.certificate) in metadata

    sp = make_sp(application)  # the SP loaded metadata with both certificates
    signing_key_promote(key=staged)
    client.force_login(member)
    form = posted_form(client.get(f"/saml2/{application.idp_slug}"))
    result = _consume(sp, form)
    assert result.name_id.text == member.email
    signature_cert = "".join(base64.b64decode(form["SAMLResponse"]).decode().split())
    assert body(staged.certificate) in signature_cert and body(old.certificate) not in signature_cert
