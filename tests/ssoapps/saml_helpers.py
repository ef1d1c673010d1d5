"""Helpers for the SAML tests: hand-made AuthnRequests, reading the POST form page, reading events."""

import base64
import datetime as dt
import html
import re
import uuid
import zlib
from urllib.parse import urlencode, urlsplit

from insights.models import Event
from tests.ssoapps.factories import SP_ACS_URL, SP_ENTITY_ID


def authn_request_xml(
    application,
    *,
    request_id: str | None = None,
    issuer: str = SP_ENTITY_ID,
    acs_url: str | None = SP_ACS_URL,
    issue_instant: dt.datetime | None = None,
    prefix: str = "",
    extra: str = "",
) -> str:
    """An AuthnRequest as an SP would write it, with any part replaceable for bad-input tests."""
    instant = (issue_instant or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    acs = f' AssertionConsumerServiceURL="{acs_url}"' if acs_url else ""
    return (
        f'{prefix}<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{request_id or "_" + uuid.uuid4().hex}" '
        f'Version="2.0" IssueInstant="{instant}" Destination="{application.sso_url}"{acs} '
        f'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
        f"<saml:Issuer>{issuer}</saml:Issuer>{extra}</samlp:AuthnRequest>"
    )


def redirect_query(xml: str | bytes, *, relay_state: str | None = None) -> str:
    """The query string of an unsigned HTTP-Redirect binding request."""
    data = xml.encode() if isinstance(xml, str) else xml
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    params = {"SAMLRequest": base64.b64encode(deflated).decode()}
    if relay_state is not None:
        params["RelayState"] = relay_state
    return urlencode(params)


def post_form(xml: str | bytes, *, relay_state: str | None = None) -> dict:
    """The form of an HTTP-POST binding request."""
    data = xml.encode() if isinstance(xml, str) else xml
    form = {"SAMLRequest": base64.b64encode(data).decode()}
    if relay_state is not None:
        form["RelayState"] = relay_state
    return form


def posted_form(response) -> dict:
    """The fields and action of the auto-submitting form Lanyard answered with."""
    body = response.content.decode()
    action = re.search(r'<form method="post" action="([^"]+)"', body)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', body))
    return {"action": html.unescape(action.group(1)), **{k: html.unescape(v) for k, v in fields.items()}}


def path_of(url: str) -> str:
    """Path and query of a URL, for the Django test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def last_sso_event() -> Event:
    """The most recent sso_auth event."""
    return Event.objects.filter(event_type="sso_auth").order_by("-id").first()


def assert_refused(response, reason: str, *, status: int | None = None) -> Event:
    """The person got a clear error page (4xx, no assertion) and the admin an sso_auth failure with the reason."""
    assert 400 <= response.status_code < 500, response.status_code
    if status is not None:
        assert response.status_code == status
    body = response.content.decode()
    assert "SAMLResponse" not in body
    assert "Assertion" not in body
    assert "could not be signed in" in body or "does not work" in body
    event = last_sso_event()
    assert event is not None and event.success is False
    assert event.message.startswith(f"{reason}:"), event.message
    return event
