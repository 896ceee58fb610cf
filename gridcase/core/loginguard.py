"""Failed-login throttling that slows guessing without letting a stranger lock a worker out.

Three counters of failed logins, all in the shared cache (Redis; production refuses to start without
CACHE_URL, so every gunicorn process sees the same counts), keyed on the client's real address
(`gridcase.core.clientaddr`: X-Forwarded-For is read only for the TRUSTED_PROXY_COUNT hops we run):

1. **username + address** — LOGIN_FAILURE_LIMIT failures within LOGIN_FAILURE_WINDOW seconds block
   that address for that username for LOGIN_FAILURE_WINDOW seconds; each further block within a day
   doubles, up to LOGIN_BACKOFF_MAX. Only the guesser's own address waits.
2. **address, any username** — LOGIN_THROTTLE_RATE failures (e.g. ``30/hour``) block the address for
   every username, with the same doubling. Stops one address from trying one password on many accounts.
   Again only that address waits; rotating a forged X-Forwarded-For does not give a new address.
3. **account, any address** — past LOGIN_ACCOUNT_FAILURE_LIMIT failures within a day, every further
   failure makes the next try wait (60 s, doubling, at most LOGIN_ACCOUNT_DELAY_MAX). This slows
   guessing spread over many addresses — but it is a delay, not a lockout, and it does not apply to a
   browser that has signed in to this account before: a successful login leaves a signed "known device"
   cookie (HttpOnly, 180 days) naming the account, and such a client skips this counter (it still
   counts and obeys 1 and 2). So however many addresses a stranger guesses from, the worker signs in on
   her own phone as usual; on a new device she waits at most LOGIN_ACCOUNT_DELAY_MAX.

Each attempt is counted before the password is checked and taken back when it succeeds, so parallel
attempts cannot slip past a limit. Refusals answer 429 `throttled` with Retry-After.
"""

import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from .clientaddr import address_bucket, client_address
from .ratelimit import Backoff

DEVICE_COOKIE = "gridcase_device"
DEVICE_COOKIE_AGE = 180 * 24 * 60 * 60
DEVICE_SALT = "gridcase.login.device"
DEVICE_MAX_ACCOUNTS = 8
ACCOUNT_WINDOW = 24 * 60 * 60
ACCOUNT_FIRST_DELAY = 60

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
            "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/hour"`` → (30, 3600). Also ``10/min``, ``5/10m`` (five per ten minutes)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*", rate or "")
    if not match or match.group(3) not in _PERIODS or int(match.group(1)) < 1:
        raise ValueError(f"not a rate: {rate!r} (expected e.g. 30/hour)")
    return int(match.group(1)), int(match.group(2) or 1) * _PERIODS[match.group(3)]


def _limits() -> tuple[Backoff, Backoff, Backoff]:
    base, cap = settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_BACKOFF_MAX
    per_address, address_window = parse_rate(settings.LOGIN_THROTTLE_RATE)
    account_cap = settings.LOGIN_ACCOUNT_DELAY_MAX
    return (
        Backoff("login-pair", settings.LOGIN_FAILURE_LIMIT, base, base, max(cap, base)),
        Backoff("login-addr", per_address, address_window, base, max(cap, base)),
        Backoff("login-acct", settings.LOGIN_ACCOUNT_FAILURE_LIMIT, ACCOUNT_WINDOW,
                min(ACCOUNT_FIRST_DELAY, account_cap), account_cap, rearm=True),
    )


def _account_id(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _device_tag(username: str) -> str:
    return salted_hmac(DEVICE_SALT, username.strip().lower()).hexdigest()[:20]


def known_tags(request) -> list[str]:
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        tags = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_COOKIE_AGE)
    except signing.BadSignature:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


class LoginThrottled(Exception):
    def __init__(self, wait: int):
        self.wait = max(1, int(wait))
        super().__init__(self.wait)


@dataclass
class Attempt:
    """One login attempt: `start()` before checking the password, then `failed()` or `succeeded()`."""

    request: object
    username: str

    def __post_init__(self):
        self.pair, self.address, self.account = _limits()
        self.addr = address_bucket(client_address(self.request))
        self.account_id = _account_id(self.username)
        self.pair_id = f"{self.account_id}:{self.addr}"
        self.known_device = _device_tag(self.username) in known_tags(self.request)
        self.counts: dict[str, int] = {}

    def _checks(self):
        yield self.pair, self.pair_id
        yield self.address, self.addr
        if not self.known_device:
            yield self.account, self.account_id

    def start(self) -> None:
        """Refuse (LoginThrottled) while a block applies to this client; otherwise count the attempt."""
        wait = max((limit.blocked_for(ident) for limit, ident in self._checks()), default=0)
        if wait:
            raise LoginThrottled(wait)
        for limit, ident in ((self.pair, self.pair_id), (self.address, self.addr), (self.account, self.account_id)):
            self.counts[limit.name] = limit.reserve(ident)
        over = [limit for limit, _ident in self._checks() if not limit.rearm and self.counts[limit.name] > limit.limit]
        if over:  # parallel attempts raced past a limit: this one does not get to try
            self._release()
            raise LoginThrottled(max(limit.first_block for limit in over))

    def _release(self) -> None:
        self.pair.release(self.pair_id)
        self.address.release(self.addr)
        self.account.release(self.account_id)

    def failed(self) -> None:
        self.pair.settle(self.pair_id, self.counts[self.pair.name])
        self.address.settle(self.addr, self.counts[self.address.name])
        self.account.settle(self.account_id, self.counts[self.account.name])

    def succeeded(self, response) -> None:
        """The password was right: nothing counts, this pair starts afresh, and the device is known."""
        self.address.release(self.addr)
        self.account.release(self.account_id)
        self.pair.reset(self.pair_id)
        tag = _device_tag(self.username)
        tags = [tag] + [t for t in known_tags(self.request) if t != tag]
        response.set_cookie(
            DEVICE_COOKIE, signing.dumps(tags[:DEVICE_MAX_ACCOUNTS], salt=DEVICE_SALT), max_age=DEVICE_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax",
        )
