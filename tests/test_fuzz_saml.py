"""Property-based tests of the IdP URL: whatever arrives at /saml2/<slug>, the answer is never a 5xx.

Both bindings (HTTP-Redirect GET, HTTP-POST form or multipart), anonymous and signed in, an app that
signs its requests and one that does not; AuthnRequests built with hostile attribute values, hostile
SAMLRequest/RelayState/Signature/SigAlg values, arbitrary extra parameters, and raw bytes. A refusal is a
4xx with a sentence that parks, answers and grants nothing; an answer only ever goes to a registered ACS URL.
"""

import base64
import datetime as dt
import uuid
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from directory.models import User
from insights.models import Event
from ssoapps import keys
from ssoapps.models import AnsweredRequest, Application, ParkedRequest
from ssoapps.saml.constants import BINDING_POST, NS_SAML, NS_SAMLP, SIGNATURE_ALGORITHMS
from ssoapps.services import application_groups_bind
from tests.factories import UserFactory, UserGroupFactory
from tests.fuzz import FUZZ, assert_answered, example_isolated
from tests.ssoapps.factories import SP_ACS_URL, SP_ENTITY_ID, application_in
from tests.ssoapps.saml_helpers import posted_form

pytestmark = pytest.mark.django_db

SHA256 = SIGNATURE_ALGORITHMS["rsa-sha256"][0]
PARAMETERS = ("SAMLRequest", "RelayState", "Signature", "SigAlg")


@dataclass(frozen=True)
class SamlCase:
    """One request to the IdP URL, described independently of the application it is sent to."""

    method: str = "POST"  # GET: HTTP-Redirect binding; POST: HTTP-POST binding
    signed_in: bool = False
    app_signs: bool = False  # the app has an SP certificate, so its requests must be signed
    sign: bool = True  # sign a Redirect request with the SP's real key when the app expects it
    build: bool = True  # send an AuthnRequest built from `attributes` and `issuer`
    attributes: dict = field(default_factory=dict)  # root attributes to replace (None: leave out)
    issuer: str | None = None
    saml_request: str | None = None  # a SAMLRequest value sent as it is, instead of a built one
    relay_state: str | None = None
    extra: dict = field(default_factory=dict)  # more parameters, any names and values
    multipart: bool = False
    raw: bytes | None = None  # the whole query string (GET) or body (POST), instead of all of the above


def _xml(application: Application, case: SamlCase) -> bytes:
    attributes = {
        "ID": "_" + uuid.uuid4().hex,
        "Version": "2.0",
        "IssueInstant": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Destination": application.sso_url,
        "AssertionConsumerServiceURL": SP_ACS_URL,
        "ProtocolBinding": BINDING_POST,
        **case.attributes,
    }
    rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attributes.items() if value is not None)
    issuer = SP_ENTITY_ID if case.issuer is None else case.issuer
    return (
        f'<samlp:AuthnRequest xmlns:samlp="{NS_SAMLP}" xmlns:saml="{NS_SAML}" {rendered}>'
        f"<saml:Issuer>{escape(issuer)}</saml:Issuer></samlp:AuthnRequest>"
    ).encode()


def _encoded(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)


def _send(client: Client, application: Application, case: SamlCase, sp_key):
    path = f"/saml2/{application.idp_slug}"
    if case.raw is not None:
        if case.method == "GET":
            return client.get(path, QUERY_STRING=case.raw.decode("latin-1"))
        kind = "multipart/form-data; boundary=x" if case.multipart else "application/x-www-form-urlencoded"
        return client.post(path, data=case.raw, content_type=kind)
    pairs: list[tuple[str, str]] = []
    if case.saml_request is not None:
        pairs.append(("SAMLRequest", case.saml_request))
    elif case.build:
        document = _xml(application, case)
        if case.method == "GET":
            deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
            document = deflater.compress(document) + deflater.flush()
        pairs.append(("SAMLRequest", base64.b64encode(document).decode()))
    if case.relay_state is not None:
        pairs.append(("RelayState", case.relay_state))
    if case.method == "GET" and case.app_signs and case.sign and pairs and "SigAlg" not in case.extra:
        pairs.append(("SigAlg", SHA256))
        signature = sp_key.sign(_encoded(pairs).encode(), padding.PKCS1v15(), hashes.SHA256())
        pairs.append(("Signature", base64.b64encode(signature).decode()))
    pairs.extend((name, value) for name, value in case.extra.items() if name not in dict(pairs))
    if case.method == "GET":
        return client.get(path, QUERY_STRING=_encoded(pairs))
    if case.multipart:
        return client.post(path, dict(pairs))
    return client.post(path, data=_encoded(pairs), content_type="application/x-www-form-urlencoded")


# --- strategies -----------------------------------------------------------------------------------------

_digits = st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=8)
_moments = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)).map(
    lambda moment: moment.isoformat() + "Z"
)
_values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="a_", min_size=200, max_size=600),  # around the 256-character ID column
    _digits,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    _moments,
    st.sampled_from(["", "2.0", SP_ACS_URL, "https://attacker.example/acs", BINDING_POST]),
)
_attributes = st.dictionaries(
    st.sampled_from(
        [
            "ID",
            "Version",
            "IssueInstant",
            "Destination",
            "AssertionConsumerServiceURL",
            "AssertionConsumerServiceIndex",
            "ProtocolBinding",
            "ForceAuthn",
            "IsPassive",
        ]
    ),
    st.one_of(st.none(), _values),
    max_size=4,
)
_parameter_values = st.one_of(
    st.text(max_size=120),
    st.binary(max_size=200).map(lambda data: base64.b64encode(data).decode()),
    st.sampled_from([SHA256, SIGNATURE_ALGORITHMS["rsa-sha1"][0], "", "=", "%", "\x00"]),
    st.integers(min_value=0, max_value=70_000).map(lambda n: "A" * n),  # around the size caps
)
_names = st.one_of(st.sampled_from(PARAMETERS), st.text(min_size=1, max_size=20))

saml_cases = st.builds(
    SamlCase,
    method=st.sampled_from(["GET", "POST"]),
    signed_in=st.booleans(),
    app_signs=st.booleans(),
    sign=st.booleans(),
    build=st.booleans(),
    attributes=_attributes,
    issuer=st.one_of(st.none(), st.text(max_size=60)),
    saml_request=st.one_of(st.none(), st.none(), _parameter_values),
    relay_state=st.one_of(st.none(), st.text(max_size=100), st.text(alphabet="é", min_size=20, max_size=60)),
    extra=st.dictionaries(_names, _parameter_values, max_size=3),
    multipart=st.booleans(),
    raw=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=400)),
)


# --- the property ---------------------------------------------------------------------------------------


class Sso:
    """The app under test, its authorized member, and the SP's certificate and private key."""

    def __init__(self, application, member, certificate, sp_key):
        self.application, self.member, self.certificate, self.sp_key = application, member, certificate, sp_key
        member_client = Client()
        member_client.force_login(member)
        self.clients = {False: Client(), True: member_client}


@pytest.fixture
def sso(org):
    """An app of `org` that its member may use, the key its SP signs with, and a client per kind of visitor."""
    member = UserFactory(organization=org, email="alice@org-a.test", username="alice")
    application = application_in(org, label="Demo SP")
    application_groups_bind(
        application=application, groups=[UserGroupFactory(organization=org, name="Engineering", members=[member])]
    )
    keypair = keys.keypair_generate(common_name="fuzz sp")
    sp_key = serialization.load_pem_private_key(keypair.private_key.encode(), password=None)
    return Sso(application, member, keypair.certificate, sp_key)


def _counts() -> tuple[int, ...]:
    return (
        ParkedRequest.objects.count(),
        AnsweredRequest.objects.count(),
        Event.objects.filter(success=True).count(),
        User.objects.count(),
    )


@FUZZ
@given(case=saml_cases)
@example(
    case=SamlCase(
        signed_in=True, attributes={"AssertionConsumerServiceURL": None, "AssertionConsumerServiceIndex": "²"}
    )
)
@example(case=SamlCase(attributes={"ID": "_" + "a" * 300}))
@example(case=SamlCase(signed_in=True, attributes={"ID": "_" + "a" * 300}))
@example(case=SamlCase(relay_state="a\x00b"))
@example(case=SamlCase(method="GET", relay_state="a\x00b"))
@example(case=SamlCase(method="GET", app_signs=True, relay_state="\x00", attributes={"ID": "_" + "b" * 257}))
@example(case=SamlCase(extra={"x\x00": "1"}))
@example(case=SamlCase(raw=b"SAMLRequest=%00&RelayState=\x00"))
@example(case=SamlCase(method="GET", raw=b"SAMLRequest=\xff\xfe&&=&SigAlg"))
@example(case=SamlCase(multipart=True, raw=b'--x\r\nContent-Disposition: form-data; name="a\r\n\r\n'))
def test_the_idp_url_answers_every_request_without_a_5xx(sso, case):
    application = sso.application
    with example_isolated():
        if case.app_signs:
            Application.objects.filter(pk=application.pk).update(sp_certificate=sso.certificate)
        before = _counts()
        response = _send(sso.clients[case.signed_in], application, case, sso.sp_key)
        if assert_answered(response):
            assert _counts() == before  # nothing parked, answered or granted
        elif "SAMLResponse" in response.content.decode():
            assert posted_form(response)["action"] in application.acs_urls


@pytest.mark.parametrize(
    ("case", "status"),
    [
        (SamlCase(signed_in=True), 200),
        (SamlCase(method="GET", signed_in=True, app_signs=True, relay_state="état"), 200),
        (SamlCase(method="GET", app_signs=True), 302),
        (SamlCase(multipart=True), 302),
    ],
)
def test_the_generated_requests_reach_the_answer_when_valid(sso, case, status):
    """Without this, the property above could be exploring refusals only."""
    if case.app_signs:
        Application.objects.filter(pk=sso.application.pk).update(sp_certificate=sso.certificate)
    response = _send(sso.clients[case.signed_in], sso.application, case, sso.sp_key)
    assert response.status_code == status
    if status == 200:
        assert posted_form(response)["action"] == SP_ACS_URL
    else:
        assert ParkedRequest.objects.count() == 1
