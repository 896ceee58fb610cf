"""Counters with exponential back-off on the shared cache (Redis in production).

A `Backoff` counts events (e.g. failed logins) per key in a fixed window. When the count reaches the
limit the key is blocked: first for `first_block` seconds, and each further block within
`STRIKE_MEMORY` doubles, up to `max_block`. `rearm=False` starts the count again after a block (a
round of `limit` tries, then a longer wait); `rearm=True` keeps it, so every further event in the
window blocks again, longer (one try per wait).

Counting is atomic (INCR), so parallel requests cannot slip past a limit: callers `reserve()` an event
before the slow work and `release()` it when the event turned out not to count.
"""

import math
import time
from dataclasses import dataclass

from django.core.cache import cache

STRIKE_MEMORY = 24 * 60 * 60


def now() -> float:
    return time.time()


def incr(key: str, ttl: int) -> int:
    """Atomically add one to a counter that lives `ttl` seconds from its first event."""
    for _ in range(3):
        cache.add(key, 0, ttl)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            continue
    return 1


def decr(key: str) -> None:
    try:
        if cache.decr(key) <= 0:
            cache.delete(key)
    except ValueError:
        pass


@dataclass(frozen=True)
class Backoff:
    name: str
    limit: int
    window: int
    first_block: int
    max_block: int
    rearm: bool = False

    def _key(self, ident: str, part: str) -> str:
        return f"rl:{self.name}:{ident}:{part}"

    def blocked_for(self, ident: str) -> int:
        """Seconds this key must still wait (0: not blocked)."""
        until = cache.get(self._key(ident, "until"))
        if not until:
            return 0
        left = until - now()
        return math.ceil(left) if left > 0 else 0

    def reserve(self, ident: str) -> int:
        """Count one event now; returns the count (a count above the limit means a parallel race)."""
        return incr(self._key(ident, "n"), self.window)

    def release(self, ident: str) -> None:
        decr(self._key(ident, "n"))

    def settle(self, ident: str, count: int) -> int:
        """The reserved event counted (e.g. the password was wrong): block if the limit is reached.

        Returns the new block in seconds (0: none)."""
        if count < self.limit:
            return 0
        strikes = incr(self._key(ident, "strikes"), STRIKE_MEMORY)
        seconds = min(self.first_block * 2 ** min(strikes - 1, 30), self.max_block)
        cache.set(self._key(ident, "until"), now() + seconds, seconds + 1)
        if not self.rearm:
            cache.delete(self._key(ident, "n"))
        return seconds

    def reset(self, ident: str) -> None:
        cache.delete_many([self._key(ident, part) for part in ("n", "strikes", "until")])
