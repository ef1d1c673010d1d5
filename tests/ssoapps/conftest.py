"""Fixtures for the SAML tests: an authorized user, and a real SAML SP (pysaml2's client) configured for the app."""

import shutil

import pytest
from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import SPConfig

from ssoapps import keys, selectors
from tests.factories import UserFactory, UserGroupFactory
from tests.ssoapps.factories import SP_ACS_URL, SP_ACS_URL_2, SP_ENTITY_ID, application_in

XMLSEC1 = shutil.which("xmlsec1")


@pytest.fixture
def member(org):
    """An active user of `org`."""
    return UserFactory(organization=org, email="alice@org-a.test", username="alice", first_name="Alice")


@pytest.fixture
def engineering(org, member):
    """A group of `org` with `member` in it."""
    return UserGroupFactory(organization=org, name="Engineering", members=[member])


@pytest.fixture
def sp_keypair():
    """The SP's own key pair, for signing AuthnRequests."""
    return keys.keypair_generate(common_name="test sp")


@pytest.fixture
def application(org, engineering):
    """A custom SAML app of `org`, authorized for Engineering."""
    from ssoapps.services import application_groups_bind

    app = application_in(org, label="Demo SP", group_attribute_name="groups")
    application_groups_bind(application=app, groups=[engineering])
    return app


@pytest.fixture
def make_sp(tmp_path):
    """Build a pysaml2 SP client that trusts the given application's IdP metadata."""
    if XMLSEC1 is None:
        pytest.fail("pysaml2 verifies signatures with Debian's xmlsec1 binary: apt-get install -y xmlsec1")

    def build(
        application,
        *,
        entity_id=SP_ENTITY_ID,
        acs_urls=(SP_ACS_URL, SP_ACS_URL_2),
        keypair=None,
        sign_requests=False,
        want_response_signed=True,
        want_assertions_signed=True,
    ) -> Saml2Client:
        metadata = selectors.application_idp_metadata(application=application).decode()
        config = {
            "entityid": entity_id,
            "xmlsec_binary": XMLSEC1,
            "metadata": {"inline": [metadata]},
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(url, BINDING_HTTP_POST) for url in acs_urls]},
                    "allow_unsolicited": True,
                    "authn_requests_signed": sign_requests,
                    "want_response_signed": want_response_signed,
                    "want_assertions_signed": want_assertions_signed,
                    "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                }
            },
        }
        if keypair is not None:
            key_file, cert_file = tmp_path / "sp.key", tmp_path / "sp.crt"
            key_file.write_text(keypair.private_key)
            cert_file.write_text(keypair.certificate)
            config["key_file"], config["cert_file"] = str(key_file), str(cert_file)
        sp_config = SPConfig()
        sp_config.load(config)
        return Saml2Client(config=sp_config)

    return build
