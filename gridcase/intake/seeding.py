"""Demo: a few problems reported by residents through their micro-grid's QR code, with tracking codes —
one waiting, one being handled, one closed and rated. Idempotent (one report per client key and micro-grid)."""

import logging

from django.utils import timezone

from gridcase.cases import workflow
from gridcase.cases.models import Case, Category
from gridcase.core.errors import DomainError
from gridcase.grids.choices import Level, Role
from gridcase.grids.models import Grid, Membership
from gridcase.grids.roles import FIELD_WORKERS
from gridcase.stats import rollup

from . import services
from .models import IntakeTicket

log = logging.getLogger(__name__)

REPORTS = [
    ("env_drain", "单元门口下水道堵了，一下雨就积水，老人进出不方便。", "陈女士", "13900000001", "waiting"),
    ("facility_lighting", "3栋和4栋之间的路灯坏了好几天，晚上很黑。", "刘先生", "", "handling"),
    ("env_stairwell", "楼道里堆了很多纸箱和旧家具，担心消防安全。", "", "13900000003", "closed"),
]


def _staff(grid):
    """(micro-grid worker, grid worker) of a micro-grid, or None when the demo tree lacks one."""
    rows = dict(Membership.objects.filter(grid_id__in=[grid.pk, grid.parent_id],
                                          role__in=FIELD_WORKERS)
                .values_list("role", "user"))
    if Role.MICRO_GRID_WORKER in rows and Role.GRID_WORKER in rows:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.in_bulk([rows[Role.MICRO_GRID_WORKER], rows[Role.GRID_WORKER]])
        return users[rows[Role.MICRO_GRID_WORKER]], users[rows[Role.GRID_WORKER]]
    return None


def _act(case_id, action, user, **data):
    version = Case.objects.filter(pk=case_id).values_list("version", flat=True).first()
    workflow.apply(case_id, action, user, data, version=version)


def _advance(ticket, stage, staff):
    worker, grid_worker = staff
    steps = [("accept", grid_worker, {}), ("assign", grid_worker, {"assignee": worker.pk}), ("start", worker, {})]
    if stage == "closed":
        steps += [("resolve", worker, {"note": "已联系物业清理，楼道已通畅。"}), ("verify", grid_worker, {}),
                  ("close", grid_worker, {})]
    for action, user, data in steps:
        _act(ticket.case_id, action, user, **data)
    if stage == "closed":
        services.rate(services.ticket_for_code(ticket.code), "satisfied", "处理很及时，谢谢网格员。")


def seed_demo(ctx):
    grids = [g for g in Grid.objects.filter(level=Level.MICRO_GRID).order_by("code")[:10] if _staff(g)][:len(REPORTS)]
    if not grids or not Category.objects.exists():
        ctx.log("intake: no micro-grid with staff, nothing seeded")
        return
    days, codes = set(), []
    for (cat, text, name, phone, stage), grid in zip(REPORTS, grids, strict=False):
        key = f"demo-intake-{cat}"
        ticket = IntakeTicket.objects.filter(grid=grid, client_key=key).first()
        if ticket is None:
            category = Category.objects.filter(code=cat).first() or Category.objects.filter(sensitive=False).first()
            result = services.submit(grid, {"category": category.pk, "description": text, "name": name,
                                            "contact_phone": phone, "client_key": key})
            ticket = result.ticket
            try:
                if stage != "waiting":
                    _advance(ticket, stage, _staff(grid))
            except DomainError as exc:  # the demo carries on with the report as it stands
                log.warning("intake demo: could not advance %s: %s", ticket.code, exc)
            days.add(rollup.local_day(ticket.created_at))
        codes.append(f"{ticket.code} ({grid.name}, /api/v1/intake/{grid.qr_token}/)")
    rollup.recompute_days(days | {rollup.local_day(timezone.now())})
    ctx.log("intake: resident reports, tracking codes: " + "; ".join(codes))


def seed_city(ctx):
    """The city's cases come from the cases seeder (source `resident` among them); no tickets needed."""
