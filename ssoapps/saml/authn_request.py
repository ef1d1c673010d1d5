"""Incoming AuthnRequests: decode either binding, verify the signature, and read only what was signed."""

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from . import errors, signing, xml
from .constants import BINDING_POST, BINDING_REDIRECT, NS_SAML, NS_SAMLP

MAX_RELAY_STATE_BYTES = 80
MAX_REQUEST_ID_CHARS = 256  # the answered-request table's column: a longer ID could not be remembered
_ACS_INDEX = re.compile(r"[0-9]{1,5}")  # xs:unsignedShort in ASCII digits; str.isdigit() also accepts "²"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: no database column holds them
MAX_REQUEST_AGE = dt.timedelta(minutes=10)  # answered IDs are kept longer than this, so replays are always caught
CLOCK_SKEW = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class SpSettings:
    """What the engine needs to know about the app that sent the request."""

    sso_url: str
    sp_entity_id: str
    acs_urls: tuple[str, ...]
    sp_certificate: str


@dataclass(frozen=True)
class AuthnRequest:
    """A verified AuthnRequest: its ID, the ACS URL to answer at, and the RelayState to return."""

    id: str
    issuer: str
    acs_url: str
    relay_state: str
    binding: str


def _bad(message: str) -> errors.SamlRefusal:
    return errors.SamlRefusal(errors.BAD_REQUEST, message)


def relay_state_check(relay_state: str) -> str:
    """RelayState is opaque to us but bounded: SAML bindings allow 80 bytes, and it is kept while the user signs in."""
    if len(relay_state) > MAX_RELAY_STATE_BYTES or len(relay_state.encode(errors="replace")) > MAX_RELAY_STATE_BYTES:
        raise errors.SamlRefusal(
            errors.RELAY_STATE_TOO_LONG,
            "The app sent a RelayState longer than 80 bytes, which SAML does not allow. "
            "Ask the app's administrator to shorten it.",
        )
    if _UNSTORABLE.search(relay_state):
        raise _bad(
            "The app sent a RelayState with a NUL or other invalid character in it. "
            "Ask the app's administrator to fix it."
        )
    return relay_state


def _raw_query_params(query_string: str) -> dict[str, str]:
    """Query parameters exactly as sent (still URL-encoded), because the Redirect signature covers those bytes."""
    raw: dict[str, str] = {}
    for part in query_string.split("&"):
        name, _, value = part.partition("=")
        if name in raw:
            raise _bad("The sign-in request repeats a parameter. Start the sign-in again from the app.")
        raw[name] = value
    return raw


def decode_redirect(query_string: str, sp: SpSettings) -> tuple[bytes, str]:
    """HTTP-Redirect binding: (inflated XML, RelayState); the detached signature is checked when the app signs."""
    raw = _raw_query_params(query_string)
    if "SAMLRequest" not in raw:
        raise _bad("The sign-in request from the app is missing. Start the sign-in again from the app.")
    relay_state = relay_state_check(unquote_plus(raw.get("RelayState", "")))
    if sp.sp_certificate:
        if "Signature" not in raw or "SigAlg" not in raw:
            raise errors.SamlRefusal(
                errors.SIGNATURE_MISSING,
                "The app sent an unsigned sign-in request, but it is configured to sign them. "
                "Ask the app's administrator to check its SAML settings.",
            )
        signed_part = "&".join(f"{n}={raw[n]}" for n in ("SAMLRequest", "RelayState", "SigAlg") if n in raw)
        signing.verify_redirect(
            signed_part=signed_part.encode(),
            signature_b64=unquote_plus(raw["Signature"]),
            sig_alg=unquote_plus(raw["SigAlg"]),
            certificate_pem=sp.sp_certificate,
        )
    deflated = xml.b64decode_bounded(unquote_plus(raw["SAMLRequest"]))
    return xml.inflate_bounded(deflated), relay_state


def _parse_instant(value: str | None) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError as exc:
        raise _bad("The sign-in request carries no valid IssueInstant. Start the sign-in again from the app.") from exc
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def authn_request_parse(
    *, sp: SpSettings, binding: str, saml_request: str = "", relay_state: str = "", query_string: str = ""
) -> AuthnRequest:
    """Decode, verify and read an AuthnRequest sent with either binding; raises SamlRefusal."""
    if binding == BINDING_REDIRECT:
        document, relay_state = decode_redirect(query_string, sp)
        root = xml.parse(document)
    else:
        relay_state = relay_state_check(relay_state)
        root = xml.parse(xml.b64decode_bounded(saml_request))
        if sp.sp_certificate:
            signing.verify_enveloped(root, certificate_pem=sp.sp_certificate)
    # From here on only the root element is read: it is what the signature covered.
    if root.tag != f"{{{NS_SAMLP}}}AuthnRequest" or root.get("Version") != "2.0" or not root.get("ID"):
        raise _bad("The app sent something other than a SAML 2.0 AuthnRequest. Start the sign-in again from the app.")
    if len(root.get("ID")) > MAX_REQUEST_ID_CHARS:
        raise _bad(
            f"The sign-in request's ID is longer than {MAX_REQUEST_ID_CHARS} characters, which Lanyard does not "
            "accept. Ask the app's administrator to check its SAML settings."
        )
    issuer = root.find(f"{{{NS_SAML}}}Issuer")
    issuer_value = (issuer.text or "").strip() if issuer is not None and len(issuer) == 0 else None
    if not sp.sp_entity_id or issuer_value != sp.sp_entity_id:
        raise errors.SamlRefusal(
            errors.WRONG_ISSUER,
            "The sign-in request names a different app than the one configured at this address. "
            "Ask your administrator to check the app's SP entity ID.",
        )
    now = dt.datetime.now(dt.UTC)
    instant = _parse_instant(root.get("IssueInstant"))
    if instant > now + CLOCK_SKEW or instant < now - MAX_REQUEST_AGE:
        raise errors.SamlRefusal(
            errors.EXPIRED, "The sign-in request has expired. Start the sign-in again from the app."
        )
    destination = root.get("Destination")
    if destination and destination.rstrip("/") != sp.sso_url.rstrip("/"):
        raise _bad("The sign-in request was meant for another address. Ask your administrator to check the IdP URL.")
    protocol_binding = root.get("ProtocolBinding")
    if protocol_binding and protocol_binding != BINDING_POST:
        raise _bad("The app asked for a response binding Lanyard does not offer. Configure the app for HTTP-POST.")
    acs_url = root.get("AssertionConsumerServiceURL")
    index = root.get("AssertionConsumerServiceIndex")
    if acs_url is not None:
        if acs_url not in sp.acs_urls:
            raise errors.SamlRefusal(
                errors.UNKNOWN_ACS,
                "The app asked for the response to go to an address that is not registered for it. "
                "Ask your administrator to add the ACS URL to the app in Lanyard.",
            )
    elif index is not None:
        if not _ACS_INDEX.fullmatch(index) or int(index) >= len(sp.acs_urls):
            raise errors.SamlRefusal(
                errors.UNKNOWN_ACS,
                "The app asked for an ACS URL that is not registered for it. Ask your administrator.",
            )
        acs_url = sp.acs_urls[int(index)]
    elif sp.acs_urls:
        acs_url = sp.acs_urls[0]
    else:
        raise errors.SamlRefusal(
            errors.UNKNOWN_ACS, "No ACS URL is registered for this app. Ask your administrator to add one."
        )
    return AuthnRequest(
        id=root.get("ID"), issuer=issuer_value, acs_url=acs_url, relay_state=relay_state, binding=binding
    )
