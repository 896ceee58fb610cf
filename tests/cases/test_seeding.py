"""Seeded cases follow the live rules: the event-replay property holds for every one of them, and a seeded case
ends in the state a live case reaches with the same input."""

import json
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gridcase.cases import seeding, services, sweep, workflow
from gridcase.cases.models import (
    Case,
    CaseDepartment,
    CaseEvent,
    CaseHop,
    CaseNumberSequence,
    Category,
    ExtensionRequest,
    Hotspot,
)
from gridcase.cases.simulation import (
    CASE_COLUMNS,
    DEPT_COLUMNS,
    EVENT_COLUMNS,
    EXTENSION_COLUMNS,
    HOP_COLUMNS,
)
from gridcase.core.seeding import SeedContext
from gridcase.grids.models import Building, Department, Grid, Household, Unit

from .conftest import assert_replays

User = get_user_model()


def test_seeded_cases_replay_and_are_idempotent(city, category, make_case):
    # A fixed moment (a Wednesday, 10:00 in Shanghai): which of the 300 stories is still being handled depends on
    # the time of day the year of cases ends at (at some minutes of a night, none is in progress).
    ctx = SeedContext(kind="demo", scale=0.1, now=datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    ctx.root = city.street
    seeding.seed_demo(ctx)
    cases = list(Case.objects.all())
    assert len(cases) == 300 + 7
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
    # the repeated 飞线充电 in one building is a hotspot once seeded (未诉先办)
    # (distinct: whether one or both of the first two stories are closed by today depends on the calendar)
    wiring = Hotspot.objects.filter(kind="building", category__code="safety_wiring", current=True,
                                    cases__title__contains="飞线充电", cases__status="closed").distinct().get()
    assert wiring.count >= 4 and wiring.status == "open"
    hotspot_rows = list(Hotspot.objects.values_list("id", "count"))
    # a second run adds nothing, and numbering continues after the seeded ones
    seeding.seed_demo(ctx)
    assert Case.objects.count() == len(cases)
    assert list(Hotspot.objects.values_list("id", "count")) == hotspot_rows
    new = make_case()
    seq = CaseNumberSequence.objects.get(community=city.community, year=int(new.number[:4]))
    assert new.number.endswith(f"{seq.last:06d}") and new.number not in numbers


# --- a seeded case and a live case with the same input end in the same state --------------------------------

def _story(world, code, path, delays, **more):
    topic = next(t for t in world.topics if t[0].code == code)
    return {"grid": more.pop("grid"), "topic": topic, "source": "patrol", "path": path, "delays": delays, **more}


def _seed_one(city, story, created_at, merge_into=None):
    world = seeding.World(city.street)
    sim = seeding.Simulator(world, random.Random(11), timezone.now(), first_extension_id=1)
    if merge_into is not None:
        sim.last_in_grid[story["grid"]] = SimpleNamespace(pk=merge_into.pk, number=merge_into.number)
    return sim.case(10**7, created_at, story)


def _input(action, comment, payload):
    """The input the seeder gave an action, read back from its event."""
    keys = {"reject": ["reason"], "reopen": ["reason"], "merge": [("into", "merged_into")], "assign": ["assignee"],
            "whistle": ["departments", "report_by"], "score_department": ["department", "score"],
            "request_extension": ["hours"], "decide_extension": ["approve"], "rate": ["rating"],
            "callback": ["rating", "called_at"]}.get(action, [])
    data = {}
    for key in keys:
        name, source = key if isinstance(key, tuple) else (key, key)
        data[name] = payload[source]
    text = {"reject": "reason", "reopen": "reason", "escalate": "reason", "request_extension": "reason",
            "score_department": "comment", "rate": "comment", "callback": "comment"}.get(action, "note")
    data.setdefault(text, comment)
    return data


def _play_live(rows):
    """Report the seeded case through services.create_case and run its events through the live workflow and the
    sweep, at the same instants, as the same people."""
    case_row, events, *_ = rows
    c = dict(zip(CASE_COLUMNS, case_row, strict=True))
    place = {"building": Building, "unit": Unit, "household": Household, "dedicated_grid": Grid}
    data = {"category": Category.objects.get(pk=c["category_id"]), "grid": Grid.objects.get(pk=c["grid_id"]),
            "title": c["title"], "description": c["description"], "priority": c["priority"], "scope": c["scope"],
            "source": c["source"], "reporter_name": c["reporter_name"],
            **{k: model.objects.get(pk=c[f"{k}_id"]) for k, model in place.items() if c[f"{k}_id"]}}
    case = services.create_case(User.objects.get(pk=c["reporter_id"]), data, now=c["created_at"]).case
    for _, action, actor, _, _, _, comment, payload, at in events[1:]:
        if action.startswith("sla_"):
            sweep.mark(case.pk, action.removeprefix("sla_"), at)
        elif actor is not None:  # an escalation without an actor is the sweep's, done by mark()
            case.refresh_from_db()
            workflow.apply(case.pk, action, User.objects.get(pk=actor), _input(action, comment, json.loads(payload)),
                           version=case.version, now=at)
    return Case.objects.get(pk=case.pk)


def _state(case_row, events, hops, links, extensions):
    """Everything a case is, without its own id and number; extension ids as their order."""
    ext_ids = {e[0]: i for i, e in enumerate(extensions)}

    def payload(p):
        p = dict(json.loads(p) if isinstance(p, str) else p)
        if "extension" in p:
            p["extension"] = ext_ids[p["extension"]]
        return p

    row = dict(zip(CASE_COLUMNS, case_row, strict=True))
    return {"case": {k: v for k, v in row.items() if k not in ("id", "number")},
            "events": [(*e[1:7], payload(e[7]), e[8]) for e in events],
            "hops": [tuple(h[1:]) for h in hops], "links": [tuple(d[1:]) for d in links],
            "extensions": [tuple(e[2:]) for e in extensions]}


def _live_state(case):
    extensions = list(ExtensionRequest.objects.filter(case=case).order_by("id").values_list(*EXTENSION_COLUMNS))
    return _state(
        [getattr(case, k) for k in CASE_COLUMNS],
        list(CaseEvent.objects.filter(case=case).order_by("id").values_list(*EVENT_COLUMNS)),
        list(CaseHop.objects.filter(case=case).order_by("id").values_list(*HOP_COLUMNS)),
        list(CaseDepartment.objects.filter(case=case).order_by("id").values_list(*DEPT_COLUMNS)),
        extensions)


def _same(city, story, merge_into=None):
    created_at = timezone.now() - timedelta(days=30)
    rows = _seed_one(city, story, created_at, merge_into)
    live = _play_live(rows)
    seeded, played = _state(*rows), _live_state(live)
    for part in ("case", "events", "hops", "links", "extensions"):
        assert seeded[part] == played[part], part
    return seeded


def test_a_seeded_and_a_live_case_end_alike_reopened_after_a_bad_rating(city, category):
    world = seeding.World(city.street)
    story = _story(world, "env_drain", ["accept", "assign", "start", "request_extension", "decide_extension", "resolve",
                                        "verify", "close", "rate"], [0.5] * 13, grid=city.micro.pk,
                   reporter=city.worker.pk, rating="dissatisfied")
    seeded = _same(city, story)
    actions = [e[0] for e in seeded["events"]]
    assert actions.count("close") == 2 and "decide_extension" in actions and seeded["case"]["reopen_count"] == 1


def test_a_seeded_and_a_live_case_end_alike_with_departments(city, category):
    world = seeding.World(city.street)
    story = _story(world, "facility_leak", ["escalate", "accept", "whistle", "report_in", "reply", "score_department",
                                            "assign", "start", "resolve", "verify", "close"], [0.5] * 11,
                   grid=city.micro.pk, reporter=city.worker.pk)
    seeded = _same(city, story)
    assert seeded["case"]["owner_grid_id"] == city.grid.pk and seeded["case"]["status"] == "closed"
    assert seeded["links"][0][9] is not None and seeded["links"][0][11]  # replied, scored


def test_a_seeded_and_a_live_case_end_alike_through_the_sweep(city, category):
    """Left past its deadline, a micro-grid case is marked and escalated by the sweep (the policy says so), then
    assigned again by its new owner before the story goes on."""
    world = seeding.World(city.street)
    story = _story(world, "env_drain", ["accept", "assign", "start", "resolve", "verify", "close"],
                   [0.5, 0.5, 0.5, 200, 0.5, 0.5], grid=city.micro.pk, reporter=city.worker.pk)
    seeded = _same(city, story)
    actions = [e[0] for e in seeded["events"]]
    assert "sla_red" in actions and seeded["case"]["escalation_count"] >= 1
    escalation = next(e for e in seeded["events"] if e[0] == "escalate")
    assert escalation[1] is None and seeded["case"]["status"] == "closed"
    assert any(h[4] == "auto_escalate" for h in seeded["hops"])


def test_a_seeded_and_a_live_case_end_alike_under_the_skip_rule(city, category):
    """The skip rule ranks priorities: a rule from "high" lifts an urgent case too (the seeder once compared with
    `==` and left such cases in the micro-grid)."""
    gas_co = Department.objects.create(code="gas", name="燃气公司", kind="gas", area=city.street)
    Category.objects.filter(code="safety_gas").update(skip_min_priority="high")
    world = seeding.World(city.street)
    story = _story(world, "safety_gas", ["accept", "assign", "start", "resolve", "verify", "close"], [0.2] * 6,
                   grid=city.micro.pk, reporter=city.worker.pk, priority="urgent")
    seeded = _same(city, story)
    created = seeded["events"][0][6]
    assert seeded["case"]["status"] == "closed"
    assert created["skip_rule"] == "street" and created["departments"] == [gas_co.pk]
    assert created["copied_grids"] == [city.community.pk, city.micro.pk]
    assert [h[2] for h in seeded["hops"] if h[0] == "department"] == [gas_co.pk]


def test_a_seeded_and_a_live_case_end_alike_when_merged_or_rejected(city, category, make_case):
    target = make_case(title="先报的那一件")
    world = seeding.World(city.street)
    merged = _same(city, _story(world, "env_drain", ["merge"], [0.5], grid=city.micro.pk, reporter=city.worker.pk),
                   merge_into=target)
    assert merged["case"]["merged_into_id"] == target.pk and merged["events"][-1][6]["into_number"] == target.number
    rejected = _same(city, _story(world, "env_drain", ["reject"], [0.5], grid=city.micro.pk, reporter=city.worker.pk))
    assert rejected["case"]["status"] == "rejected"


# --- the city seeder's replicas: the rows a full play gives at the replica's instant ------------------------

def _planned(city, count, per_case=40, verify_every=1, now=None):
    from gridcase.cases.replicas import Replicas

    world = seeding.World(city.street)
    now = now or timezone.now()
    sim = seeding.Simulator(world, random.Random(5), now)
    player = seeding.Simulator(world, random.Random(6), now)
    reps = Replicas(sim, player, CASE_COLUMNS, per_case, seeding.REPLICA_WEEKS,
                    now - timedelta(days=seeding.FRESH_DAYS), verify_every, seeding.copy_tables(now))
    times = seeding._created_times(sim.rng, now, count)
    schedule = reps.plan(times, lambda t: t.astimezone(seeding.TZ).date(), sim.rng)
    return reps, times, schedule


def test_every_replica_equals_its_story_played_in_full_at_its_instant(city, category):
    reps, times, schedule = _planned(city, 1500)
    written = [reps.rows(tpl, case_id, at, days) for case_id, (at, _, tpl, days) in enumerate(schedule, start=1)]
    # verify() played each written case's story in full at its instant, with the same merge target and extension
    # ids, and found the same rows (it raises on any difference)
    assert reps.verified == reps.made == len(written) - reps.replayed
    assert reps.replicas > 2 * reps.played  # most cases are replicas, all of them checked above
    # one case per drawn report time, per day as many as were drawn; written in time order, numbers following it
    day = lambda t: t.astimezone(seeding.TZ).date()  # noqa: E731
    assert sorted(day(at) for at, *_ in schedule) == sorted(day(t) for t in times)
    created = [dict(zip(CASE_COLUMNS, w[0], strict=True)) for w in written]
    assert [c["created_at"] for c in created] == sorted(c["created_at"] for c in created)
    numbers = [c["number"] for c in created]
    assert len(set(numbers)) == len(numbers)
    # replicas name other rows anew: extension ids unique, merges into an earlier case of the same micro-grid
    extension_ids = [e[0] for w in written for e in w[4]]
    assert len(set(extension_ids)) == len(extension_ids)
    by_id = {c["id"]: c for c in created}
    for c in created:
        if c["merged_into_id"]:
            target = by_id[c["merged_into_id"]]
            assert target["grid_id"] == c["grid_id"] and target["created_at"] <= c["created_at"]


def test_a_replica_whose_rows_differ_from_the_full_play_stops_the_seed(city, category):
    import pytest

    reps, _, schedule = _planned(city, 600, verify_every=0)
    at, _, tpl, days = next(s for s in schedule if s[3] and not s[2].merged and not s[2].extensions)
    rows = reps.rows(tpl, 1, at, days)
    reps.verify(tpl, at, rows)  # as written: equal
    broken = list(rows[1])
    broken[-1] = (*broken[-1][:8], broken[-1][8] + timedelta(hours=1))  # one event an hour off
    with pytest.raises(RuntimeError, match="differs from its story played in full"):
        reps.verify(tpl, at, (rows[0], broken, *rows[2:]))


def test_replicas_written_as_copy_text_are_their_rows(city, category):
    """The seeder writes each case as COPY text filled in from its template's text formatted once (Replicas.lines):
    byte for byte the case's rows formatted one by one, and checked against the full play as text too."""
    import pytest

    now = timezone.now()
    rows, _, schedule = _planned(city, 1500, verify_every=0, now=now)
    lines, _, again = _planned(city, 1500, verify_every=1, now=now)  # the same plan, the same draws
    assert [(at, days) for at, _, _, days in again] == [(at, days) for at, _, _, days in schedule]
    told = [(rows.rows(tpl, case_id, at, days), lines.lines(tpl2, case_id, at, days))
            for case_id, ((at, _, tpl, days), (_, _, tpl2, _)) in enumerate(zip(schedule, again, strict=True), start=1)]
    assert all(rows.text_of(r) == text for r, text in told)
    assert lines.verified == lines.made and lines.replicas > 2 * lines.played
    # a text one event off its story stops the seed
    (at, _, tpl, days), text = next((s, t) for s, (_, t) in zip(again, told, strict=True)
                                    if s[3] and not s[2].merged and not s[2].extensions)
    broken = text[1].replace(b"\t", b"\tx", 1)
    with pytest.raises(RuntimeError, match="differs from its story played in full"):
        lines.verify(tpl, at, (text[0], broken, *text[2:]))


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="COPY text: PostgreSQL")
def test_replicas_made_in_worker_processes_are_the_text_made_here(city, category, monkeypatch):
    """A big city's cases are named here in time order and their text made in forked processes (Replicas.written):
    byte for byte what `lines` gives case by case, in the same order, each verified case counted once; a case
    whose text differs from its full play stops the seed from inside a worker too."""
    import pytest

    from gridcase.cases import replicas

    monkeypatch.setattr(replicas, "RENDER_FROM", 10)
    monkeypatch.setattr(replicas, "RENDER_CHUNK", 64)
    monkeypatch.setattr(replicas, "AHEAD", 1)
    now = timezone.now()
    here, _, schedule = _planned(city, 1500, verify_every=1, now=now)
    there, _, again = _planned(city, 1500, verify_every=1, now=now)
    expected = [here.lines(tpl, case_id, at, days) for case_id, (at, _, tpl, days) in enumerate(schedule, start=7)]
    assert list(there.written(again, 7)) == expected
    assert there.verified == here.verified == here.made == there.made
    assert there.replicas > 2 * there.played and there.replicas == here.replicas

    broken, _, schedule = _planned(city, 1500, verify_every=1, now=now)

    def differs(self, *args):
        raise RuntimeError("the case written differs from its story played in full")

    monkeypatch.setattr(replicas.Replicas, "verify", differs)
    with pytest.raises(RuntimeError, match="differs from its story played in full"):
        list(broken.written(schedule, 1))


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="bulk mode and COPY: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_big_city_load_writes_events_on_a_second_connection_and_leaves_every_index(city, category, monkeypatch):
    """From BULK_MODE_FROM cases the events go through a second connection in bulk mode of its own (SideLoad) and
    the cases' text is made in worker processes: every row lands once, every index of the four tables is there
    again, foreign keys are checked again afterwards, and the cases replay."""

    from gridcase.cases import replicas

    monkeypatch.setattr(seeding, "REPLICATE_FROM", 1000)
    monkeypatch.setattr(seeding, "BULK_MODE_FROM", 1000)
    monkeypatch.setattr(seeding, "VERIFY_EVERY", 50)
    monkeypatch.setattr(replicas, "RENDER_FROM", 100)
    monkeypatch.setattr(replicas, "RENDER_CHUNK", 128)
    tables = [m._meta.db_table for m in (Case, CaseEvent, CaseHop, CaseDepartment)]

    def indexes():
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
            return sorted(cursor.fetchall())

    before = indexes()
    ctx = SeedContext(kind="city", scale=0.0012)
    ctx.root = city.street
    seeding.seed_city(ctx)
    assert indexes() == before
    cases = list(Case.objects.order_by("id"))
    assert len(cases) == 1200 and ctx.rows["events"] == CaseEvent.objects.count() > 5 * 1200
    assert not CaseEvent.objects.exclude(case_id__in=[c.pk for c in cases]).exists()
    assert {e for (e,) in CaseEvent.objects.values_list("case_id").distinct()} == {c.pk for c in cases}
    for case in cases[::25]:
        assert_replays(case)
    # the foreign-key triggers are on again: an event naming no case is refused
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.create(case_id=max(c.pk for c in cases) + 10, action="accept", version=1,
                                 at=timezone.now())


def test_city_cases_load_with_replicas_keeps_the_replay_property(city, category, monkeypatch):
    monkeypatch.setattr(seeding, "REPLICATE_FROM", 1000)
    monkeypatch.setattr(seeding, "VERIFY_EVERY", 1)
    ctx = SeedContext(kind="city", scale=0.0012)
    ctx.root = city.street
    seeding.seed_city(ctx)
    cases = list(Case.objects.all())
    assert len(cases) == 1200 and ctx.rows["cases"] == 1200
    assert ctx.rows["events"] == CaseEvent.objects.count() and ctx.rows["hops"] == CaseHop.objects.count()
    for case in cases[::7]:
        assert_replays(case)
    numbers = [c.number for c in cases]
    assert len(set(numbers)) == len(numbers)
