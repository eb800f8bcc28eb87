"""The real client address behind trusted proxies (IDSVC_TRUSTED_PROXIES).

``X-Forwarded-For`` is believed only when the connection comes from a trusted proxy, and only
as far as the chain stays trusted: walking the header from the right, the first address that is
not a trusted proxy is the client (what nginx's ``real_ip_recursive`` does).  A client that sends
its own ``X-Forwarded-For`` straight to idsvc changes nothing, so rate limits and long-poll caps
keyed on the address cannot be dodged, and 30 members behind one office NAT or the TLS proxy are
30 addresses only when a proxy that saw them says so.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; raises ValueError naming a bad entry."""
    networks = []
    for item in (part.strip() for part in spec.split(",")):
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(remote_addr: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    if not trusted or not forwarded_for or not _trusted(remote_addr, trusted):
        return remote_addr
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote_addr  # a malformed chain: believe only the connection
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else remote_addr


class TrustedProxies:
    """WSGI middleware setting REMOTE_ADDR to the client address (original kept in idsvc.peer)."""

    def __init__(self, app: WsgiApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR", "")
        environ["idsvc.peer"] = peer
        environ["REMOTE_ADDR"] = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"), self.trusted)
        return self.app(environ, start_response)
