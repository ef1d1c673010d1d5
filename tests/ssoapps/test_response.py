"""What a Response says beyond what pysaml2 checks: short validity with a little skew, fresh IDs every time."""

import base64
import datetime as dt

from lxml import etree

from tests.ssoapps.saml_helpers import posted_form

NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion"}


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _launch(client, application) -> etree._Element:
    form = posted_form(client.get(f"/saml2/{application.idp_slug}"))
    return etree.fromstring(base64.b64decode(form["SAMLResponse"]))


def test_validity_is_short_and_allows_a_few_seconds_of_skew(client, member, application):
    client.force_login(member)
    response = _launch(client, application)
    issued = _instant(response.get("IssueInstant"))
    conditions = response.find("saml:Assertion/saml:Conditions", NS)
    not_before, not_after = _instant(conditions.get("NotBefore")), _instant(conditions.get("NotOnOrAfter"))
    assert dt.timedelta(seconds=1) <= issued - not_before <= dt.timedelta(seconds=60)
    assert dt.timedelta(seconds=30) <= not_after - issued <= dt.timedelta(minutes=5)
    confirmation = response.find("saml:Assertion/saml:Subject/saml:SubjectConfirmation", NS)
    assert confirmation.get("Method") == "urn:oasis:names:tc:SAML:2.0:cm:bearer"
    data = confirmation.find("saml:SubjectConfirmationData", NS)
    assert _instant(data.get("NotOnOrAfter")) == not_after
    assert data.get("InResponseTo") is None  # IdP-initiated: nothing to respond to


def test_every_response_and_assertion_has_a_fresh_id(client, member, application):
    client.force_login(member)
    first, second = _launch(client, application), _launch(client, application)
    ids = {
        first.get("ID"),
        second.get("ID"),
        first.find("saml:Assertion", NS).get("ID"),
        second.find("saml:Assertion", NS).get("ID"),
    }
    assert len(ids) == 4
