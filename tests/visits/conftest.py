"""Helpers for the visits tests: a clock pinned to a known day, and quick visit logging."""

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridcase.grids.models import Tag
from gridcase.visits import services
from gridcase.visits.models import CarePlan

SH = ZoneInfo("Asia/Shanghai")


def at(day, hour=8):
    """An aware datetime on a local (Asia/Shanghai) day."""
    return datetime.combine(day, time(hour), tzinfo=SH)


def log_visit(actor, resident, kind="home", when=None, wellbeing="good", **extra):
    data = {"client_uuid": extra.pop("client_uuid", uuid.uuid4()), "resident": resident, "kind": kind,
            "visited_at": when, "wellbeing": wellbeing, "findings": extra.pop("findings", ""), **extra}
    visit, _ = services.record_visit(actor, data)
    return visit


def plan_of(resident):
    return CarePlan.objects.prefetch_related("items").get(resident=resident)


def items_of(resident):
    return {i.kind: i for i in plan_of(resident).items.all() if i.every_n_days}


def tag(code):
    return Tag.objects.get(code=code)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """Pin "today" (Asia/Shanghai) so due dates are exact; returns a setter for moving the clock."""
    from django.utils import timezone

    state = {}

    def set_day(day):
        state["day"] = day
        now = at(day, 9)
        monkeypatch.setattr(timezone, "now", lambda: now.astimezone(ZoneInfo("UTC")))
        return day

    from datetime import date

    set_day(date(2026, 11, 16))  # a Monday, no holiday around
    set_day.days = lambda n: set_day(state["day"] + timedelta(days=n))
    set_day.get = lambda: state["day"]
    return set_day
