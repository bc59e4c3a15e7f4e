"""The client's address, and messages shared by pages and the API."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in settings.LATCHKEY_TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, unless it is one of LATCHKEY_TRUSTED_PROXIES: then the nearest address in
    X-Forwarded-For that is not a trusted proxy (read from the right, where our proxy appended
    what it saw; whatever a client wrote further left is never believed). Behind the proxy,
    without this every client would share the proxy's address, and a per-address limit would
    throttle the whole site; trusting the header from anyone would let a client pick its own."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    if not _trusted(peer):
        return str(peer)
    for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
        address = _address(hop)
        if address is None:
            break  # not an address our proxy wrote: stop at the last one it vouched for
        if not _trusted(address):
            return str(address)
        peer = address
    return str(peer)


# Shown whenever Ceph does not answer during a change; the services guarantee it is true.
