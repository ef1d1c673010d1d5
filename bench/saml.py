"""SAML IdP benchmark: raw RSA-2048 signing (the limit), Lanyard's IdP-initiated launch, pysaml2 (the peer).

Run with `.venv/bin/python bench/saml.py` (optional: `--seconds 3`). Everything runs in this one process, on a
throwaway test database (in-memory SQLite by default; DATABASE_URL picks another). pysaml2 needs Debian's
`xmlsec1` binary (`apt-get install -y xmlsec1`). The last line is the key=value summary.
"""

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SP_ENTITY_ID = "https://sp.bench.test/saml2/metadata/"
SP_ACS_URL = "https://sp.bench.test/saml2/acs/"


ROUNDS = 3


def rate(fn, seconds: float) -> float:
    """Calls per second of fn: the best of a few rounds of about seconds/ROUNDS each, after a warm-up.

    The machine is shared; the best round is the least disturbed one, and every figure is taken the same way.
    """
    for _ in range(3):
        fn()
    best = 0.0
    for _ in range(ROUNDS):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / ROUNDS:
            fn()
            count += 1
        best = max(best, count / elapsed)
    return best


def rsa_sign_rate(private_pem: str, seconds: float) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second with `cryptography`: the ceiling for any signer."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    data = b"x" * 512
    return rate(lambda: key.sign(data, padding.PKCS1v15(), hashes.SHA256()), seconds)


def setup_lanyard():
    """A test database with one organization, a member of an authorized group, and a SAML app."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)

    from directory import services as directory_services
    from directory.models import Organization
    from ssoapps import services

    org = Organization.objects.create(name="Bench Org", slug="bench")
    user = directory_services.user_create(
        organization=org, email="alice@bench.test", first_name="Alice", last_name="Anders", department="Eng"
    )
    group = directory_services.group_create(organization=org, name="Engineering")
    directory_services.group_members_add(group=group, users=[user])
    application = services.application_create(
        organization=org,
        catalog_key="custom-saml",
        label="Bench SP",
        sp_entity_id=SP_ENTITY_ID,
        acs_urls=[SP_ACS_URL],
        sign_response=True,
        sign_assertion=True,
        attribute_statements=[
            {"name": "email", "source": "email"},
            {"name": "firstName", "source": "first_name"},
            {"name": "lastName", "source": "last_name"},
        ],
    )
    services.application_groups_bind(application=application, groups=[group])
    return connection, user, application


def lanyard_launch(user, application):
    """One full IdP-initiated launch as a WSGI call (all middleware, session cookie): request in, page out."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import Client

    client = Client()
    client.force_login(user)  # only to get a real session for the cookie
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    handler = WSGIHandler()
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/saml2/{application.idp_slug}",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_COOKIE": cookie,
        "HTTP_USER_AGENT": "bench/saml.py",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status = []

    def start_response(code, headers, exc_info=None):
        status.append(code)

    def launch():
        status.clear()
        body = b"".join(handler({**base, "wsgi.input": io.BytesIO(b"")}, start_response))
        if not status[0].startswith("200") or b"SAMLResponse" not in body:
            raise SystemExit(f"launch failed: {status} {body[:300]!r}")

    return launch


def pysaml2_response(application, key_pem: str, cert_pem: str, tmp: Path, xmlsec1: str):
    """pysaml2's create_authn_response with its default signer (xmlsec1) on the same key and attributes."""
    from saml2 import BINDING_HTTP_POST
    from saml2.config import IdPConfig
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
    from saml2.server import Server

    (tmp / "idp.key").write_text(key_pem)
    (tmp / "idp.crt").write_text(cert_pem)
    sp_metadata = f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{SP_ENTITY_ID}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{SP_ACS_URL}" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"""
    config = IdPConfig()
    config.load(
        {
            "entityid": application.issuer,
            "xmlsec_binary": xmlsec1,
            "key_file": str(tmp / "idp.key"),
            "cert_file": str(tmp / "idp.crt"),
            "metadata": {"inline": [sp_metadata]},
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(application.sso_url, BINDING_HTTP_POST)]},
                    "policy": {"default": {"lifetime": {"minutes": 3}, "attribute_restrictions": None}},
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                }
            },
        }
    )
    server = Server(config=config)
    identity = {"email": ["alice@bench.test"], "firstName": ["Alice"], "lastName": ["Anders"]}
    name_id = NameID(format=NAMEID_FORMAT_EMAILADDRESS, text="alice@bench.test")

    def respond():
        server.create_authn_response(
            identity,
            None,
            SP_ACS_URL,
            SP_ENTITY_ID,
            name_id=name_id,
            userid="alice@bench.test",
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
            sign_response=application.sign_response,
            sign_assertion=application.sign_assertion,
        )

    return respond


def main() -> None:
    """Measure the three rates and print them, the summary line last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measuring time per figure")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the launch path")
    args = parser.parse_args()
    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1 is None:
        raise SystemExit(
            "pysaml2 needs Debian's xmlsec1 binary: run `apt-get install -y xmlsec1` (or scripts/system-packages.sh)."
        )

    connection, user, application = setup_lanyard()
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    key = application.signing_keys.get(state="active")
    launch = lanyard_launch(user, application)
    launch()
    with CaptureQueriesContext(connection) as queries:
        launch()
    print(f"lanyard launch: {len(queries)} SQL queries per launch")
    reset_queries()
    rsa = rsa_sign_rate(key.private_key, args.seconds)
    print(f"raw RSA-2048 sign (cryptography): {rsa:.0f}/s")
    launch_rate = rate(launch, args.seconds)
    signatures = int(application.sign_response) + int(application.sign_assertion)
    print(f"lanyard IdP-initiated launch ({signatures} signature(s), WSGI call): {launch_rate:.0f}/s")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [launch() for _ in range(200)])
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_TOP", "25"))
        )
        print(out.getvalue())
    with tempfile.TemporaryDirectory() as tmp:
        peer = pysaml2_response(application, key.private_key, key.certificate, Path(tmp), xmlsec1)
        peer_rate = rate(peer, args.seconds)
    print(f"pysaml2 create_authn_response (default xmlsec1 signer, same key and attributes): {peer_rate:.1f}/s")
    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    print(
        f"launch_per_s={launch_rate:.0f} rsa_sign_per_s={rsa:.0f} pysaml2_per_s={peer_rate:.1f} "
        f"ratio_to_rsa={launch_rate / rsa:.2f} speedup_vs_pysaml2={launch_rate / peer_rate:.0f}"
    )


if __name__ == "__main__":
    main()
