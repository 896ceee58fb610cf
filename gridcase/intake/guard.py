"""Abuse control of the public intake: limits that hold across processes, a honeypot and a minimum fill time.

- **Throttle** by the client's real address (`gridcase.core.clientaddr`: X-Forwarded-For is believed only for
  the TRUSTED_PROXY_COUNT hops we run, so a forged header neither hides nor rotates the address) and per QR
  token, counted in the shared cache (Redis in production: every gunicorn process counts together; INCR is
  atomic, so parallel requests cannot slip past). Rates: INTAKE_THROTTLE_RATE per address (an IPv6 /64 is one
  subscriber) and INTAKE_TOKEN_RATE per micro-grid. Reads are never throttled.
- **Honeypot**: the form carries a field people never see (`website`); a filled one is a robot.
- **Minimum fill time**: the page's GET hands out a signed `form_token` with the time it was served; a report
  sent sooner than INTAKE_MIN_FILL_SECONDS after it, without one, or with one older than a day is refused.
"""

import math
import time

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import Throttled

from gridcase.core import ratelimit
from gridcase.core.clientaddr import address_bucket, client_address
from gridcase.core.errors import ValidationFailed
from gridcase.core.loginguard import parse_rate

FORM_SALT = "gridcase.intake.form"
FORM_MAX_AGE = 24 * 60 * 60
HONEYPOT = "website"


def _rates() -> dict:
    drf = getattr(settings, "REST_FRAMEWORK", {}).get("DEFAULT_THROTTLE_RATES", {})
    return {"addr": parse_rate(drf.get("intake") or "20/hour"),
            "token": parse_rate(getattr(settings, "INTAKE_TOKEN_RATE", "60/hour"))}


def _count(kind: str, ident: str, limit: int, window: int) -> int:
    """Seconds to wait when this event is over the limit of its fixed window (0: allowed). Counted atomically."""
    now = ratelimit.now()
    slot = int(now // window)
    n = ratelimit.incr(f"rl:intake-{kind}:{ident}:{slot}", window + 1)
    if n <= limit:
        return 0
    return max(1, math.ceil((slot + 1) * window - now))


def throttle(request, token: str) -> None:
    """Count one write; raise 429 `throttled` (with Retry-After) past either limit."""
    rates = _rates()
    waits = [_count("addr", address_bucket(client_address(request)), *rates["addr"]),
             _count("token", str(token)[:32], *rates["token"])]
    wait = max(waits)
    if wait:
        raise Throttled(wait=wait)


def form_token(now: float | None = None) -> str:
    return signing.dumps({"t": round(now if now is not None else time.time(), 3)}, salt=FORM_SALT)


def min_fill_seconds() -> float:
    return float(getattr(settings, "INTAKE_MIN_FILL_SECONDS", 4))


def check_form(data: dict) -> None:
    """Refuse robots: a filled honeypot, no form token, or a form sent faster than a person can fill it."""
    if str(data.get(HONEYPOT) or "").strip():
        raise ValidationFailed(_("This report could not be accepted."), code="spam_suspected")
    raw = data.get("form_token")
    try:
        served = signing.loads(str(raw or ""), salt=FORM_SALT, max_age=FORM_MAX_AGE)["t"]
    except (signing.BadSignature, KeyError, TypeError):
        raise ValidationFailed(_("The form has expired. Reload the page and send it again."), code="form_expired",
                               fields={"form_token": [_("Reload the page.")]})
    if time.time() - float(served) < min_fill_seconds():
        raise ValidationFailed(_("That was very fast. Please check your report and send it again."),
                               code="too_fast")
