"""The address a request really came from: the one place that reads REMOTE_ADDR and X-Forwarded-For.

Behind proxies every request arrives from the proxy, so the client's address is in X-Forwarded-For.
That header is written by whoever sends the request, so only the entries our own proxies appended can
be believed. With `TRUSTED_PROXY_COUNT = n` (the number of proxies in front of the app that append to
X-Forwarded-For, e.g. 1 for nginx → gunicorn), the client is the n-th entry from the right; anything
further left is what the client claimed and is ignored. With n = 0 (the default) the header is never
read and REMOTE_ADDR is the client.

Throttles (login, resident intake) key on `client_address()`, or on `address_bucket()` where one
person may hold many addresses (an IPv6 /64 is one subscriber).
"""

import ipaddress

from django.conf import settings


def _valid(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:51234"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request) -> str:
    """The client's IP address as our trusted proxies saw it (REMOTE_ADDR when none are trusted)."""
    remote = _valid(request.META.get("REMOTE_ADDR", "")) or "unknown"
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [e for e in (part.strip() for part in header.split(",")) if e]
    if not entries:
        return remote  # reached the app without passing a proxy
    # Our proxies appended the last `hops` entries; the outermost one wrote the client's address.
    claimed = entries[max(0, len(entries) - hops)]
    return _valid(claimed) or remote


def address_bucket(address: str) -> str:
    """What a per-address limit counts: the address itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:  # "::ffff:203.0.113.9" is the IPv4 client 203.0.113.9
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
