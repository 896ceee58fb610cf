"""Hold times read the hops that ended from their rollup and the hops still held live from the cases not finished:
the figures equal those over every hop of the city (old finished cases, open hops of long-untouched cases and
another community's cases in the comparison), and a transition reaches them at the next refresh."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gridcase.cases.models import Case, CaseHop
from gridcase.stats import holds
from gridcase.stats.params import parse_period
from tests.cases.conftest import case_maker, ensure_taxonomy

pytestmark = pytest.mark.django_db


def raw(grid, period):
    """Every hop of the city, filtered in Python: ended in the period, or open at its end, for cases in `grid`."""
    from gridcase.grids import tree

    out = {}
    for hop in CaseHop.objects.select_related("case__grid"):
        if not tree.is_inside(hop.case.grid, grid):
            continue
        row = out.setdefault(hop.grid_level, [0, 0])
        if hop.ended_at is not None and period.start <= hop.ended_at < period.end:
            row[0] += 1
        elif hop.started_at < period.end and (hop.ended_at is None or hop.ended_at >= period.end):
            row[1] += 1
    return {level: tuple(v) for level, v in out.items() if any(v)}


def test_the_figures_equal_those_over_every_hop(city):
    from gridcase.cases.models import Category
    from gridcase.grids.models import Grid

    ensure_taxonomy()
    make_case = case_maker(city, Category.objects.get(code="env_drain"))

    now = timezone.now()
    fresh, old_done, old_open, elsewhere = (make_case() for _ in range(4))
    CaseHop.objects.all().delete()
    long_ago = now - timedelta(days=200)

    def hop(case, level, grid, started, ended=None):
        CaseHop.objects.create(case=case, kind="grid", grid=grid, grid_level=level, start_action="create",
                               started_at=started, ended_at=ended, end_action="escalate" if ended else "")

    hop(fresh, "micro_grid", city.micro, now - timedelta(hours=5), now - timedelta(hours=2))
    hop(fresh, "grid", city.grid, now - timedelta(hours=2))
    hop(old_done, "micro_grid", city.micro, long_ago, long_ago + timedelta(hours=3))
    hop(old_open, "micro_grid", city.micro, long_ago)  # waiting since long ago on a case nobody touched
    hop(elsewhere, "micro_grid", city.other_micro, now - timedelta(hours=4), now - timedelta(hours=1))
    # Each case reported when its first hop started, as a report stamps both (hold_times relies on it).
    Case.objects.filter(pk=fresh.pk).update(created_at=now - timedelta(hours=5))
    Case.objects.filter(pk=old_done.pk).update(status="closed", created_at=long_ago,
                                               updated_at=long_ago + timedelta(hours=3))
    Case.objects.filter(pk=old_open.pk).update(status="assigned", created_at=long_ago, updated_at=long_ago)
    Case.objects.filter(pk=elsewhere.pk).update(grid=city.other_micro, created_at=now - timedelta(hours=4))

    holds.refresh()  # the first run rebuilds
    period = parse_period(None, None)
    community = Grid.objects.get(pk=city.community.pk)
    got = {r["level"]: (r["hops"], r["waiting"]) for r in holds.hold_times(community, period)["results"]}
    assert got == raw(community, period) == {"micro_grid": (1, 1), "grid": (0, 1)}


def test_a_transition_reaches_the_figures_at_the_next_refresh(city, client_for):
    from gridcase.cases import workflow
    from gridcase.cases.models import Category
    from gridcase.grids.models import Grid

    ensure_taxonomy()
    case = case_maker(city, Category.objects.get(code="env_drain"))()
    holds.refresh()
    community = Grid.objects.get(pk=city.community.pk)
    before = {r["level"]: r for r in holds.hold_times(community, parse_period(None, None))["results"]}
    assert before["micro_grid"]["waiting"] == 1 and before["micro_grid"]["hops"] == 0
    case = workflow.apply(case.pk, "accept", city.secretary, {}, version=case.version)
    workflow.apply(case.pk, "escalate", city.worker, {"reason": "需要网格协调"}, version=case.version)
    holds.refresh()
    after = {r["level"]: r for r in holds.hold_times(community, parse_period(None, None))["results"]}
    assert after["micro_grid"]["hops"] == 1 and after["micro_grid"]["waiting"] == 0
    assert after["grid"]["waiting"] == 1
