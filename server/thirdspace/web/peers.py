"""Who is on the other end of a request: the peer's address and whether it came over HTTPS.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the request's
direct peer is one of the configured ``trusted_proxies`` (addresses or networks); from
anyone else they are ignored, so a visitor cannot choose the address that limits
and bans apply to.
"""

from __future__ import annotations

import functools
import ipaddress

from aiohttp import web

from thirdspace.web.keys import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def _networks(configured: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in configured.split(",") if item.strip())


def _trusted(address: str | None, configured: str) -> bool:
    if not address or not configured:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(configured))


def _via_proxy(request: web.Request) -> bool:
    return _trusted(request.remote, request.app[SETTINGS].trusted_proxies)


def peer_address(request: web.Request) -> str:
    """The client's address: the direct peer, or, behind a trusted proxy, the last untrusted hop of X-Forwarded-For."""
    direct = request.remote or "unknown"
    if not _via_proxy(request):
        return direct
    configured = request.app[SETTINGS].trusted_proxies
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):  # the nearest hops were added by proxies we trust; the first one that is not ours is the client
        if not _trusted(hop, configured):
            return hop
    return hops[0] if hops else direct


def came_over_https(request: web.Request) -> bool:
    """True when the browser's connection was TLS: directly, or to a trusted proxy that says so in X-Forwarded-Proto."""
    if request.secure:
        return True
    if not _via_proxy(request):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"
