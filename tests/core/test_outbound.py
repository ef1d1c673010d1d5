"""The outbound guard: one resolution, internal ranges refused, the checked address connected to, no redirects."""

import datetime as dt
import ipaddress
import re
import socket
import ssl
import threading
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.outbound import OutboundRefused, outbound_client
from tests.core.servers import RecordingServer

PUBLIC = "93.184.216.34"  # a globally routable address; the tests never let a packet reach it
_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def no_allowed_networks(settings):
    """The guard as it runs in production: no network is exempt."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []


@pytest.fixture
def server():
    running = RecordingServer(body={"ok": True})
    yield running
    running.stop()


class Resolver:
    """A stand-in for DNS: names in `answers` resolve to the next address in their list; others really resolve."""

    def __init__(self, monkeypatch, answers: dict[str, list[str]]):
        self.answers = {name: list(addresses) for name, addresses in answers.items()}
        self.calls: list[str] = []
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host, port, *args, **kwargs):
        if host not in self.answers:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        self.calls.append(host)
        address = self.answers[host].pop(0) if len(self.answers[host]) > 1 else self.answers[host][0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


@pytest.fixture
def connects(monkeypatch):
    """Every socket address a connection is attempted to; connections to non-loopback addresses are refused."""
    seen: list[tuple] = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        seen.append(address)
        if not str(address[0]).startswith("127."):
            raise ConnectionRefusedError(111, "Connection refused (test)")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


INTERNAL = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "not publicly routable"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "private"),
    ("192.0.2.10", "private"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize(("address", "kind"), INTERNAL)
def test_internal_addresses_are_refused_by_literal(no_allowed_networks, connects, address, kind):
    host = f"[{address}]" if ":" in address else address
    with outbound_client() as client, pytest.raises(OutboundRefused) as caught:
        client.get(f"https://{host}/scim/v2/Users")
    assert kind in caught.value.detail
    assert caught.value.message == f"Lanyard could not reach the app at {address}; check the URL."
    assert connects == []


@pytest.mark.parametrize(("address", "kind"), INTERNAL)
def test_internal_addresses_are_refused_by_name(no_allowed_networks, monkeypatch, connects, address, kind):
    Resolver(monkeypatch, {"scim.attacker.example": [address]})
    with outbound_client() as client, pytest.raises(OutboundRefused) as caught:
        client.get("https://scim.attacker.example/scim/v2/Users")
    assert f"scim.attacker.example resolves to {ipaddress.ip_address(address)}" in caught.value.detail
    assert kind in caught.value.detail
    assert caught.value.message == "Lanyard could not reach the app at scim.attacker.example; check the URL."
    assert connects == []


def test_a_name_with_one_internal_address_among_public_ones_is_refused(no_allowed_networks, monkeypatch, connects):
    def answer(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    with outbound_client() as client, pytest.raises(OutboundRefused):
        client.get("https://mixed.example/")
    assert connects == []


def test_a_request_inside_an_allowed_network_goes_through(settings, server):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with outbound_client() as client:
        assert client.get(f"{server.url}/scim/v2/Users").json() == {"ok": True}
    assert [path for _, path, _ in server.requests] == ["/scim/v2/Users"]


def test_the_allowed_network_is_the_operators_list_not_the_whole_range(settings, server):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    with outbound_client() as client, pytest.raises(OutboundRefused):
        client.get(f"{server.url}/")
    assert server.requests == []


def test_dns_rebinding_the_connection_goes_to_the_address_that_was_checked(
    no_allowed_networks, monkeypatch, connects, server
):
    # First answer public (passes the check), every later answer loopback (where the server listens).
    resolver = Resolver(monkeypatch, {"rebind.example": [PUBLIC, "127.0.0.1"]})
    with outbound_client() as client, pytest.raises(httpx2.ConnectError):
        client.get(f"https://rebind.example:{server.port}/")
    assert resolver.calls == ["rebind.example"]  # resolved once
    assert connects == [(PUBLIC, server.port)]  # and connected to the address that was checked
    assert server.requests == []  # the loopback server never heard of it


def test_dns_rebinding_a_refused_first_answer_stops_the_request_before_connecting(
    no_allowed_networks, monkeypatch, connects, server
):
    resolver = Resolver(monkeypatch, {"rebind.example": ["127.0.0.1", PUBLIC]})
    with outbound_client() as client, pytest.raises(OutboundRefused):
        client.get(f"https://rebind.example:{server.port}/")
    assert resolver.calls == ["rebind.example"]
    assert connects == [] and server.requests == []


def test_keep_alive_connections_are_reused_not_resolved_again(settings, monkeypatch, server):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    resolver = Resolver(monkeypatch, {"127.0.0.1": ["127.0.0.1"]})
    with outbound_client(base_url=server.url) as client:
        for _ in range(5):
            assert client.get("/Users").status_code == 200
    assert resolver.calls == ["127.0.0.1"]  # one connection, one check, five requests
    assert len(server.requests) == 5


def test_redirects_are_refused_not_followed(server):
    server.status, server.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data/"}
    with outbound_client() as client, pytest.raises(OutboundRefused) as caught:
        client.get(f"{server.url}/scim/v2/Users")
    assert "redirect (HTTP 302)" in caught.value.detail
    assert len(server.requests) == 1


def test_plain_http_goes_only_to_loopback_and_only_when_allowed(settings, server, connects):
    with outbound_client() as client, pytest.raises(OutboundRefused):
        client.get(f"http://{PUBLIC}/")
    settings.ALLOW_INSECURE_URLS = False
    with outbound_client() as client, pytest.raises(OutboundRefused):
        client.get(f"{server.url}/")
    assert connects == [] and server.requests == []


def test_proxies_from_the_environment_are_not_used(monkeypatch, server):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    with outbound_client() as client:
        assert client.get(f"{server.url}/").status_code == 200
    assert len(server.requests) == 1


def _self_signed(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def test_tls_keeps_sni_and_certificate_checks_on_the_host_name(settings, monkeypatch, tmp_path):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    certificate, key = _self_signed("scim.example.test")
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server_names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass  # the client hangs up once it has seen the untrusted certificate
        finally:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    Resolver(monkeypatch, {"scim.example.test": ["127.0.0.1"]})
    with outbound_client() as client, pytest.raises(httpx2.ConnectError) as caught:
        client.get(f"https://scim.example.test:{port}/scim/v2/Users", headers={"Authorization": "Bearer secret"})
    thread.join(timeout=5)
    listener.close()
    assert server_names == ["scim.example.test"]  # SNI names the host, though the socket went to 127.0.0.1
    assert "certificate" in str(caught.value).lower()  # a self-signed certificate is not trusted: verification is on


def test_no_app_code_sends_a_request_around_the_guard():
    """Every outbound request goes through core.outbound: no other module opens HTTP or TCP connections itself."""
    root = Path(__file__).resolve().parents[2]
    around = re.compile(
        r"httpx2?\.(Client|AsyncClient|HTTPTransport|get|post|put|patch|delete|request|stream)\("
        r"|urllib\.request|urlopen\(|^\s*import requests|http\.client|socket\.create_connection|httpcore2?\.",
        re.MULTILINE,
    )
    offenders = [
        str(path.relative_to(root))
        for app in ("config", "core", "directory", "ssoapps", "provisioning", "insights")
        for path in sorted((root / app).rglob("*.py"))
        if path != root / "core" / "outbound.py" and around.search(path.read_text())
    ]
    assert offenders == []
