"""A stand-in SAML service provider (djangosaml2) for the demo and the browser tests.

It imports nothing from Lanyard: it reads Lanyard's IdP metadata and receives assertions over HTTP.
"""
