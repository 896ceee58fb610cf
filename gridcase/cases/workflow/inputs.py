"""Reading an action's input (`ctx.data`): text, numbers, ids, instants; a bad value is a 400 on its field."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import ValidationFailed

MAX_EXTENSION_HOURS = 24 * 30


def text(ctx, name, limit=2000) -> str:
    value = ctx.data.get(name, "")
    if not isinstance(value, str):
        raise ValidationFailed(fields={name: [_("Enter text.")]})
    if len(value) > limit:  # as sent (the schema's maxLength), not after trimming
        raise ValidationFailed(fields={name: [_("This text is too long.")]})
    return value.strip()


def required_text(ctx, name, limit=2000) -> str:
    value = text(ctx, name, limit)
    if not value:
        raise ValidationFailed(_("Some required fields are missing."), fields={name: [_("This field is required.")]})
    return value


def note(ctx) -> dict:
    """The input of the actions that take only an optional note."""
    return {"note": text(ctx, "note")}


def integer(ctx, name) -> int:
    """A whole number: an int, or digits (form bodies); never a float silently truncated, nor a boolean."""
    value = ctx.data.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise ValidationFailed(fields={name: [_("Invalid value.")]})


def ids(ctx, name, message) -> list[int]:
    """A list of ids (digits), sorted and without repeats; `message` when it is not one."""
    raw = ctx.data.get(name)
    if not isinstance(raw, list) or not all(str(v).isdigit() for v in raw):
        raise ValidationFailed(fields={name: [message]})
    return sorted({int(v) for v in raw})


def when(value, name) -> datetime:
    if isinstance(value, datetime):
        instant = value
    else:
        instant = parse_datetime(str(value)) if value else None
    if instant is None:
        raise ValidationFailed(fields={name: [_("Enter a date and time.")]})
    if timezone.is_naive(instant):
        instant = timezone.make_aware(instant)
    return instant


def hours(ctx, name="hours") -> Decimal:
    raw = ctx.data.get(name)
    try:
        value = Decimal(str(raw)) if not isinstance(raw, bool) else None
    except (InvalidOperation, TypeError, ValueError):
        value = None
    if value is None or not value.is_finite():  # "NaN", "Infinity": not a number of hours
        raise ValidationFailed(fields={name: [_("Enter a number of hours.")]})
    if not (0 < value <= MAX_EXTENSION_HOURS) or value.quantize(Decimal("0.01")) <= 0:
        raise ValidationFailed(_("Ask for between 0 and 720 hours."), fields={name: [_("Invalid value.")]})
    return value.quantize(Decimal("0.01"))


def yes_or_no(ctx, name) -> bool:
    value = ctx.data.get(name)
    if isinstance(value, str):
        value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(value.lower())
    if not isinstance(value, bool):
        raise ValidationFailed(fields={name: [_("Answer true or false.")]})
    return value
