"""Who is asking: the client address and scheme, believing forwarded headers only from the
reverse proxies HQ is told to trust (``POSAPP_HQ_TRUSTED_PROXIES``, none by default).

Per-address rate limits key on this address. Without a trusted proxy the address is the
TCP peer's, whatever ``X-Forwarded-For`` says; behind one, it is the rightmost address in
``X-Forwarded-For`` that is not itself a trusted proxy (the one the proxy saw connect).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[str]) -> tuple[Network, ...]:
    """``"10.0.0.5, 192.168.0.0/24"`` → networks; ``ValueError`` on anything else."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _peer(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_address(request: Request, trusted: tuple[Network, ...]) -> str:
    peer = _peer(request)
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


def is_https(request: Request, trusted: tuple[Network, ...]) -> bool:
    """Served over HTTPS: directly, or by a trusted proxy that says so."""
    if request.url.scheme == "https":
        return True
    if not trusted or not _trusted(_peer(request), trusted):
        return False
    proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return proto == "https"
