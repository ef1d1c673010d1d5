"""The IdP's Django side: find the app, read and keep requests, decide, build and issue (saml/ writes the XML)."""
