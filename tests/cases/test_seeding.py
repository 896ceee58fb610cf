"""Seeded cases follow the workflow's rules: the event-replay property holds for every one of them."""

from gridcase.cases import seeding
from gridcase.cases.models import Case, CaseDepartment, CaseEvent, CaseNumberSequence
from gridcase.core.seeding import SeedContext

from .conftest import assert_replays


def test_seeded_cases_replay_and_are_idempotent(city, category, make_case):
    ctx = SeedContext(kind="demo", scale=0.1)
    ctx.root = city.street
    seeding.seed_demo(ctx)
    cases = list(Case.objects.all())
    assert len(cases) == 300 + 4
    statuses = {c.status for c in cases}
    assert {"closed", "in_progress", "rejected"} <= statuses
    assert CaseEvent.objects.filter(action="escalate").exists()
    assert CaseDepartment.objects.filter(replied_at__isnull=False).exists()
    for case in cases:
        assert_replays(case)
    numbers = [c.number for c in cases]
    assert len(set(numbers)) == len(numbers)
    # stories are there
    assert Case.objects.filter(title__contains="飞线充电").exists()
    assert Case.objects.filter(title__contains="停车纠纷", status="closed", rating="satisfied").exists()
    # a second run adds nothing, and numbering continues after the seeded ones
    seeding.seed_demo(ctx)
    assert Case.objects.count() == len(cases)
    new = make_case()
    seq = CaseNumberSequence.objects.get(community=city.community, year=int(new.number[:4]))
    assert new.number.endswith(f"{seq.last:06d}") and new.number not in numbers
