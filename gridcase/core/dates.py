"""The dates the system accepts from callers: from 1900 to 2999.

Earlier days have local-mean-time offsets in the tz database (Asia/Shanghai was +08:06 before 1901) and
year 1 cannot be moved to UTC at all; later ones are typing mistakes. Every date or date-time taken from a
query parameter or a body is checked here, so the answer is a 400 naming the field, never a 500 or a
silently empty list.
"""

from datetime import date, datetime

from django.utils.translation import gettext_lazy as _

from .errors import ValidationFailed

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def in_range(value) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


def message():
    return _("Enter a date between %(first)s and %(last)s.") % {"first": EARLIEST.isoformat(),
                                                                  "last": LATEST.isoformat()}


def check(value, name: str):
    """`value` (a date or datetime, or None) unchanged when in range; a 400 naming `name` otherwise."""
    if value is not None and isinstance(value, date) and not in_range(value):
        raise ValidationFailed(message(), fields={name: [message()]})
    return value
