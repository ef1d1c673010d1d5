"""The SAML 2.0 IdP engine: small single-purpose modules (parsing, signing, requests, responses, metadata)."""
