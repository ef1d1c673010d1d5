"""SAML 2.0 and XML-DSig names the engine uses."""

NS_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
NS_XS = "http://www.w3.org/2001/XMLSchema"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"

BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
CM_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
AC_PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
ATTRNAME_FORMAT_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"

ALG_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ALG_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

# Signature algorithms: our short name → (XML-DSig URI, hash name for cryptography)
SIGNATURE_ALGORITHMS = {
    "rsa-sha1": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "sha1"),
    "rsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "sha256"),
    "rsa-sha384": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "sha384"),
    "rsa-sha512": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "sha512"),
}
SIGNATURE_ALGORITHM_BY_URI = {uri: (name, hash_name) for name, (uri, hash_name) in SIGNATURE_ALGORITHMS.items()}
# Incoming requests: SHA-1 is refused, anything else must be one of these.
ACCEPTED_REQUEST_SIGNATURE_URIS = {uri for name, (uri, _) in SIGNATURE_ALGORITHMS.items() if name != "rsa-sha1"}
ACCEPTED_DIGEST_URIS = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
}
