"""The one guard for every outbound HTTP request Lanyard makes: SCIM, SIEM webhooks, any future fetch.

Tenant admins choose the URLs Lanyard calls, so without a guard an admin could point Lanyard at
its own network (cloud metadata, internal services), read what answers, or probe which ports are
open. Every request therefore goes through `outbound_client()`, an httpx2 client whose transport:

- resolves the host once per connection and refuses it unless every address is globally routable
  (loopback, private, link-local, shared, multicast, reserved and unspecified ranges are refused,
  IPv4 and IPv6, including IPv4 addresses wrapped in IPv6), except addresses inside the operator's
  `OUTBOUND_ALLOWED_NETWORKS` (for apps on the company's own network);
- connects to exactly the address it checked: there is no second resolution for a DNS answer to
  change (DNS rebinding), while TLS still verifies the certificate for the host name (SNI);
- refuses redirects, and never uses proxies from the environment (a proxy would connect elsewhere);
- refuses plain http:// unless the URL policy allows it (loopback hosts in development).

A refusal raises `OutboundRefused`: its `message` tells a person only that the app could not be
reached, its `detail` (what was refused and why) is for the operators' event log.
"""

import ipaddress
import socket
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import httpcore2
import httpx2
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# SyncBackend's stream around a connected socket; httpcore2 exports the backend but not its stream.
from httpcore2._backends.sync import SyncStream

from . import url_policy

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known NAT64 prefix: the last 32 bits are an IPv4 address

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(Exception):
    """Lanyard did not send (or finish) an outbound request; `message` is for people, `detail` for operators."""

    def __init__(self, *, host: str, detail: str):
        super().__init__(detail)
        self.host = host
        self.detail = detail

    @property
    def message(self) -> str:
        """The sentence a person sees: no address, port or answer that would help map a network."""
        return unreachable_sentence(self.host)


def unreachable_sentence(host: str, *, what: str = "the app") -> str:
    """The one sentence shown for any request that did not get a usable answer."""
    return f"Lanyard could not reach {what} at {host}; check the URL."


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"OUTBOUND_ALLOWED_NETWORKS holds an invalid network: {exc}") from exc


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The operator's OUTBOUND_ALLOWED_NETWORKS, parsed (CIDRs such as 10.20.0.0/16)."""
    return _networks(tuple(getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", ()) or ()))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address | None, bool]:
    """The IPv4 address an IPv6 address leads to, and whether it is the real destination (mapped, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, True
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), True
    if address.sixtofour is not None:
        return address.sixtofour, False
    if address.teredo is not None:
        return address.teredo[1], False
    return None, False


def _category(address: Address) -> str | None:
    """Why an address is not on the public internet, or None when it is."""
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def address_refusal(address: Address, allowed: Iterable = ()) -> str | None:
    """Why Lanyard must not connect to this address (None: it may), given the operator's allowed networks."""
    allowed = tuple(allowed)
    if isinstance(address, ipaddress.IPv6Address):
        embedded, replaces = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_refusal(embedded, allowed)
            if replaces or inner is not None:  # the IPv4 address is where the packets go
                return None if inner is None else f"{inner} ({embedded}) inside an IPv6 address"
    if any(address in network for network in allowed):
        return None
    return _category(address)


def resolve_checked(host: str, port: int) -> list[tuple[int, tuple]]:
    """Resolve a host once and return (family, socket address) pairs, refusing unless every address may be used."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused(host=host, detail=f"{host} could not be resolved ({exc}).") from exc
    if not infos:
        raise OutboundRefused(host=host, detail=f"{host} resolved to no address.")
    allowed = allowed_networks()
    checked = []
    for family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        reason = address_refusal(address, allowed)
        if reason is not None:
            raise OutboundRefused(
                host=host,
                detail=f"{host} resolves to {address}, {reason}; Lanyard does not call it "
                "(an operator may list the network in OUTBOUND_ALLOWED_NETWORKS).",
            )
        checked.append((family, sockaddr))
    return checked


def destination_check(url: str) -> None:
    """Resolve a URL's host now and raise OutboundRefused if the guard would refuse it (an early answer for forms)."""
    try:
        parts = httpx2.URL(url)
    except httpx2.InvalidURL as exc:
        raise OutboundRefused(host=url, detail=f"{url} is not a valid URL ({exc}).") from exc
    resolve_checked(parts.host, parts.port or (443 if parts.scheme == "https" else 80))


class _GuardedBackend(httpcore2.SyncBackend):
    """httpcore2's network backend, connecting only to addresses the guard checked, resolved once."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore2.NetworkStream:
        last_error: OSError | None = None
        for family, sockaddr in resolve_checked(host, port):
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                if local_address is not None:
                    sock.bind((local_address, 0))
                sock.connect(sockaddr)  # the checked address itself: no name, so no second lookup
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            return SyncStream(sock)
        if isinstance(last_error, TimeoutError):
            raise httpcore2.ConnectTimeout(str(last_error)) from last_error
        raise httpcore2.ConnectError(str(last_error)) from last_error


class GuardedTransport(httpx2.HTTPTransport):
    """httpx2's transport over a keep-alive connection pool whose every connection goes through the guard."""

    def __init__(self, *, limits: httpx2.Limits | None = None):
        # Built here instead of by HTTPTransport.__init__: that one takes no network backend. Its
        # request handling, which only uses `self._pool`, is inherited unchanged. Certificates are
        # verified against the system's trust store (SSL_CERT_FILE may add an on-premises CA).
        limits = limits or httpx2.Limits()
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(verify=True),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(),
        )

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.host
        if not url_policy.scheme_allowed(request.url.scheme, host):
            raise OutboundRefused(
                host=host, detail=f"{request.url.scheme}:// to {host} is not allowed by the URL policy."
            )
        response = super().handle_request(request)
        if response.status_code in REDIRECT_STATUSES:
            response.close()
            raise OutboundRefused(
                host=host,
                detail=f"{host} answered with a redirect (HTTP {response.status_code}); Lanyard does not follow "
                "redirects. Give the final URL.",
            )
        return response


def outbound_client(
    *,
    base_url: str = "",
    headers: dict[str, str] | None = None,
    timeout: float = 15.0,
    max_connections: int = 4,
    **kwargs: Any,
) -> httpx2.Client:
    """An httpx2 client for requests to URLs tenants chose: guarded, keep-alive, no redirects, no env proxies."""
    limits = httpx2.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx2.Client(
        base_url=base_url,
        headers=headers,
        timeout=timeout,
        transport=GuardedTransport(limits=limits),
        follow_redirects=False,
        trust_env=False,
        **kwargs,
    )
