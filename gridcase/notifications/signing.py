"""Webhook signatures: `X-GridCase-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`.

The MAC is computed with `NOTIFICATION_WEBHOOK_SECRET` over `"<t>." + raw body bytes`. A receiver
recomputes it over the exact bytes it received, compares in constant time, refuses a timestamp further
than a few minutes from its clock (replay), and drops a repeated `Idempotency-Key` (a retry after a lost
answer carries the same key, with a fresh timestamp and signature). `verify` is that check, for receivers
written in Python and for the tests; deploy/README.md shows it.
"""

import hashlib
import hmac
import time

HEADER = "X-GridCase-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body` at `timestamp` (now by default)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str | None, body: bytes, *, tolerance: int = TOLERANCE_SECONDS,
           now: float | None = None) -> bool:
    """True when `header` signs exactly `body` with `secret` and its timestamp is within `tolerance` seconds."""
    if not secret or not header:
        return False
    parts = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))
