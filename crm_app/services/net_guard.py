"""The guard against server-side request forgery for requests the server makes (webhooks).

A target URL is vetted by resolving its host once and refusing it when any address it resolves
to is not a public one: loopback, private, link-local (cloud metadata lives at 169.254.169.254),
shared, multicast, reserved or unspecified, IPv4 written in decimal, octal or hex (the resolver
reads `2130706433` and `0177.1` as 127.0.0.1, and the result is what is checked), and IPv6
forms carrying an IPv4 address (mapped `::ffff:a.b.c.d`, 6to4, Teredo, NAT64). The request
then connects to the vetted address itself, sending the name as Host and TLS SNI, so a DNS
answer that changes between the check and the connection (rebinding) cannot redirect it.
`CRM_WEBHOOKS_ALLOW_PRIVATE=1` switches the address checks off (tests, a trusted LAN).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from crm_app.settings import get_settings

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL may not be requested; the message says why, for the person who typed it."""

    @property
    def message(self) -> str:
        """The reason, as shown next to the URL field."""
        return str(self)


@dataclass(frozen=True)
class Target:
    """A vetted URL and the address to connect to."""

    scheme: str
    host: str  # the name (or address) written in the URL
    port: int
    path: str  # path and query, at least "/"
    address: str  # the vetted IP address

    @property
    def pinned_url(self) -> str:
        """The URL with the vetted address in place of the name."""
        ip = ipaddress.ip_address(self.address)
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        """The Host header the target expects (the name, and the port when not the default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"

    @property
    def sni_hostname(self) -> str | None:
        """The name TLS presents and checks the certificate against (None for an address)."""
        if self.scheme != "https":
            return None
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return self.host
        return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this to play DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen[str(info[4][0]).split("%", 1)[0]] = None
    return list(seen)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why requests to this address are refused, or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = refusal(inner)
            if reason is not None:
                return reason
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved, non-public address"
    if ip.is_private:
        return "a private network address"
    if not ip.is_global:
        return "a shared or otherwise non-public address"
    return None


def _parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL, or TargetRefused."""
    url = url.strip()
    if not url:
        raise TargetRefused("Give the URL to send events to.")
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise TargetRefused("This does not look like a URL.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise TargetRefused("Use an http:// or https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Leave user names and passwords out of the URL.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("The URL needs a host name.")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise TargetRefused("The port in this URL is not a number from 1 to 65535.") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port, path


def vet_url(url: str, *, allow_private: bool | None = None) -> Target:
    """Parse and resolve `url`; refused (TargetRefused) unless every address it resolves to
    is public or private targets are allowed."""
    scheme, host, port, path = _parse(url)
    try:
        host.encode("idna")
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise TargetRefused(f"The host {host} could not be found.") from None
    if not addresses:
        raise TargetRefused(f"The host {host} could not be found.")
    if allow_private is None:
        allow_private = get_settings().webhooks_allow_private
    if not allow_private:
        for address in addresses:
            reason = refusal(ipaddress.ip_address(address))
            if reason is not None:
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise TargetRefused(f"{shown} is {reason}: webhooks only go to public addresses.")
    return Target(scheme, host, port, path, addresses[0])
