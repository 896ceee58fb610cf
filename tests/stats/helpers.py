"""Cases with known timestamps, written straight through the ORM (statistics only read stored columns)."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gridcase.cases.models import Case, CaseDepartment, Category

SH = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


def at(day: str, hhmm: str = "00:00") -> datetime:
    """A moment in Asia/Shanghai: at("2026-03-01", "10:00")."""
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SH)


def category(code="env_drain"):
    return Category.objects.get(code=code)


def make_case(grid, created, *, status="reported", cat="env_drain", owner=None, dedicated=None, source="patrol",
              responded=None, accept_by=None, accepted=None, resolved=None, handle_by=None, rating="",
              escalations=0, closed=None):
    accept_by = accept_by or created + timedelta(hours=4)
    return Case.objects.create(
        number=f"T-{next(_n):06d}", title="t", category=category(cat), grid=grid, owner_grid=owner or grid,
        dedicated_grid=dedicated, source=source, status=status, created_at=created, updated_at=created,
        first_response_at=responded, accepted_at=accepted if accepted is not None else responded,
        accept_by=accept_by, handle_by=handle_by, resolved_at=resolved, rating=rating,
        rated_at=(closed or resolved) if rating else None, closed_at=closed, escalation_count=escalations)


def whistle(case, department, whistled, report_by, reported_in=None, replied=None, score=None):
    return CaseDepartment.objects.create(case=case, department=department, whistled_at=whistled, report_by=report_by,
                                         reported_in_at=reported_in, replied_at=replied, score=score)


def fixture(city):
    """The hand-computed week 2026-03-01..07 (see test_summary_figures for the arithmetic)."""
    c = {}
    c[1] = make_case(city.micro, at("2026-03-01", "10:00"), status="closed", responded=at("2026-03-01", "11:00"),
                     handle_by=at("2026-03-03", "10:00"), resolved=at("2026-03-01", "12:30"), rating="satisfied",
                     closed=at("2026-03-01", "18:00"))
    c[2] = make_case(city.micro, at("2026-03-02", "09:00"), status="verified", owner=city.grid, escalations=1,
                     responded=at("2026-03-02", "15:00"), accept_by=at("2026-03-02", "13:00"),
                     handle_by=at("2026-03-02", "18:00"), resolved=at("2026-03-02", "19:30"), cat="safety_fire")
    c[3] = make_case(city.sibling_micro, at("2026-03-03", "08:00"), status="in_progress",
                     responded=at("2026-03-03", "09:00"), handle_by=at("2026-03-05", "08:00"))
    c[4] = make_case(city.micro, at("2026-03-05", "12:00"), status="rejected", responded=at("2026-03-05", "13:00"),
                     accepted=None, closed=at("2026-03-05", "13:00"))
    c[4].accepted_at = None
    c[4].save(update_fields=["accepted_at"])
    c[5] = make_case(city.other_micro, at("2026-03-02", "10:00"), status="closed", responded=at("2026-03-02", "10:30"),
                     handle_by=at("2026-03-04", "10:00"), resolved=at("2026-03-02", "20:00"), rating="dissatisfied",
                     closed=at("2026-03-03", "10:00"))
    c[6] = make_case(city.micro, at("2026-03-07", "23:30"), source="resident")
    c[7] = make_case(city.micro, at("2026-02-28", "23:30"), status="closed", responded=at("2026-03-01", "00:10"),
                     resolved=at("2026-03-01", "02:00"), handle_by=at("2026-03-02", "00:00"))
    c[8] = make_case(city.sibling_micro, at("2026-03-04", "10:00"), status="resolved", dedicated=city.dedicated,
                     responded=at("2026-03-04", "10:30"), handle_by=at("2026-03-06", "10:00"),
                     resolved=at("2026-03-04", "15:30"))
    whistle(c[2], city.department, at("2026-03-02", "16:00"), at("2026-03-02", "18:00"),
            reported_in=at("2026-03-02", "17:30"), replied=at("2026-03-03", "01:30"), score=4)
    whistle(c[3], city.department, at("2026-03-03", "09:00"), at("2026-03-03", "11:00"),
            reported_in=at("2026-03-03", "12:00"))
    return c
