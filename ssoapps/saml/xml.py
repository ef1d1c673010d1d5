"""Hardened decoding and parsing of incoming SAML messages: bounded size, no DTD, no entities."""

import base64
import binascii
import zlib

from lxml import etree

from . import errors

MAX_ENCODED_BYTES = 64 * 1024  # a SAMLRequest parameter, base64 as received
MAX_XML_BYTES = 64 * 1024  # the XML after decoding (and inflating)

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_pis=True,
    collect_ids=False,
)


def _bad(message: str) -> errors.SamlRefusal:
    return errors.SamlRefusal(errors.BAD_REQUEST, message)


def b64decode_bounded(value: str) -> bytes:
    """Base64-decode a SAML parameter, refusing oversized or malformed input."""
    if len(value) > MAX_ENCODED_BYTES:
        raise _bad("The sign-in request from the app is too large. Ask the app's administrator to check its settings.")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("The sign-in request from the app could not be read. Start the sign-in again from the app.") from exc


def inflate_bounded(data: bytes) -> bytes:
    """Raw-inflate a Redirect-binding message, refusing anything that expands past the size cap."""
    inflater = zlib.decompressobj(-15)
    try:
        xml = inflater.decompress(data, MAX_XML_BYTES)
    except zlib.error as exc:
        raise _bad("The sign-in request from the app could not be read. Start the sign-in again from the app.") from exc
    if inflater.unconsumed_tail:
        raise _bad("The sign-in request from the app is too large. Ask the app's administrator to check its settings.")
    return xml


def parse(xml: bytes) -> etree._Element:
    """Parse a SAML message: size-capped, and any DOCTYPE or entity declaration is refused outright."""
    if len(xml) > MAX_XML_BYTES:
        raise _bad("The sign-in request from the app is too large. Ask the app's administrator to check its settings.")
    head = xml.upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise _bad("The sign-in request from the app contains a document type declaration, which is not allowed.")
    try:
        root = etree.fromstring(xml, _PARSER)  # noqa: S320 - the parser above loads no DTD and resolves no entities
    except etree.XMLSyntaxError as exc:
        raise _bad("The sign-in request from the app is not valid XML. Start the sign-in again from the app.") from exc
    if root.getroottree().docinfo.doctype:
        raise _bad("The sign-in request from the app contains a document type declaration, which is not allowed.")
    return root
