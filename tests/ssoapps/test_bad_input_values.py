"""Values no column can hold are refused with a sentence and an event, never a 500 (issue 10, finding 8)."""

import pytest

from insights.models import Event
from ssoapps.models import AnsweredRequest, ParkedRequest
from ssoapps.saml import authn_request
from ssoapps.saml.errors import BAD_REQUEST, UNKNOWN_ACS, SamlRefusal
from tests.ssoapps.saml_helpers import assert_refused, authn_request_xml, post_form, posted_form, redirect_query


def _sso(application):
    return f"/saml2/{application.idp_slug}"


def _with_index(application, index: str) -> str:
    xml = authn_request_xml(application, acs_url=None)
    return xml.replace("ProtocolBinding=", f'AssertionConsumerServiceIndex="{index}" ProtocolBinding=')


@pytest.mark.parametrize("index", ["²", "١", "𝟙", "99999999999999999999", "-1", "+0", "0x0", " 0"])
def test_an_acs_index_that_is_not_ascii_digits_is_refused(client, member, application, index):
    client.force_login(member)
    response = client.post(_sso(application), post_form(_with_index(application, index)))
    assert_refused(response, UNKNOWN_ACS, status=400)


def test_an_acs_index_of_ascii_digits_picks_that_url(client, member, application):
    client.force_login(member)
    response = client.post(_sso(application), post_form(_with_index(application, "1")))
    assert response.status_code == 200
    assert posted_form(response)["action"] == application.acs_urls[1]


def test_the_request_id_limit_is_the_answered_request_column():
    assert authn_request.MAX_REQUEST_ID_CHARS == AnsweredRequest._meta.get_field("request_id").max_length


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_a_request_id_longer_than_its_column_is_refused_before_any_write(client, member, application, signed_in):
    if signed_in:
        client.force_login(member)
    xml = authn_request_xml(application, request_id="_" + "a" * 300)
    response = client.post(_sso(application), post_form(xml))
    event = assert_refused(response, BAD_REQUEST, status=400)
    assert "longer than 256 characters" in event.message
    assert not ParkedRequest.objects.exists() and not AnsweredRequest.objects.exists()


def test_a_request_id_of_256_characters_is_answered(client, member, application):
    client.force_login(member)
    response = client.post(_sso(application), post_form(authn_request_xml(application, request_id="_" + "a" * 255)))
    assert response.status_code == 200 and "SAMLResponse" in response.content.decode()


@pytest.mark.parametrize("binding", ["post", "redirect"])
def test_a_nul_in_relay_state_is_a_400_with_a_sentence_and_nothing_is_parked(client, application, binding):
    """Anonymous: the request would be parked, and PostgreSQL's jsonb cannot hold a NUL."""
    xml = authn_request_xml(application)
    if binding == "post":
        response = client.post(_sso(application), post_form(xml, relay_state="a\x00b"))
    else:
        response = client.get(_sso(application) + "?" + redirect_query(xml, relay_state="a\x00b"))
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert not ParkedRequest.objects.exists()
    assert Event.objects.filter(success=False).exists()


def test_the_engine_refuses_a_nul_in_relay_state_too():
    """Parked requests are read again after login; the engine does not rely on the middleware."""
    with pytest.raises(SamlRefusal) as excinfo:
        authn_request.relay_state_check("a\x00b")
    assert excinfo.value.reason == BAD_REQUEST and "NUL" in excinfo.value.message


def test_an_overlong_relay_state_is_refused_before_it_is_encoded():
    with pytest.raises(SamlRefusal):
        authn_request.relay_state_check("é" * 10_000_000)


def test_a_nul_in_a_resume_token_is_a_400_not_a_database_error(client, member, application):
    client.force_login(member)
    response = client.get(_sso(application) + "/resume/abc%00def")
    assert response.status_code == 400 and "NUL" in response.content.decode()
