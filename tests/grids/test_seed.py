"""`gridcase seed demo|city`: shape of the data, structural rules, idempotence, a valid tree."""

import io
import random
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F

from gridcase.core import crypto
from gridcase.core.seeding import DEMO_PASSWORD
from gridcase.grids import tree
from gridcase.grids.choices import Level, Role
from gridcase.grids.models import (
    Building,
    Department,
    DepartmentMember,
    Grid,
    Household,
    Membership,
    Resident,
    Unit,
)
from gridcase.grids.people import valid_id_number
from gridcase.grids.pinyin import full_pinyin, initials
from tests.persona import ensure_reference_data

User = get_user_model()


def seed(*args):
    out = io.StringIO()
    call_command("seed", *args, "--grids-only", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def table_counts():
    return {m.__name__: m.objects.count() for m in (Grid, Building, Unit, Household, Resident, User, Membership,
                                                     Department, DepartmentMember)} | {
        "tags": Resident.tags.through.objects.count()}


def assert_tree_is_what_mptt_computes():
    """Numbering computed in memory equals django-mptt's own rebuild of the same rows."""
    before = {g.pk: (tree.span(g), tree.depth_of(g)) for g in Grid.objects.all()}
    # tree.rebuild() calls Grid.objects.rebuild(), but Grid.objects is the scoped manager: ask
    # django-mptt's own tree manager directly (the point is to compare with its computation).
    with tree.tree_write_lock():
        Grid._tree_manager.rebuild()
    after = {g.pk: (tree.span(g), tree.depth_of(g)) for g in Grid.objects.all()}
    assert before == after


def assert_structural_rules():
    # Every unit's micro-grid is a micro-grid directly under its building's general grid (三不破).
    assert not Unit.objects.exclude(micro_grid__parent_id=F("building__grid_id")).exists()
    assert not Unit.objects.exclude(micro_grid__level=Level.MICRO_GRID).exists()
    assert not Building.objects.exclude(grid__level=Level.GRID).exists()
    # Denormalised grids follow the unit.
    assert not Household.objects.exclude(grid_id=F("unit__micro_grid_id")).exists()
    assert not Resident.objects.exclude(grid_id=F("household__grid_id")).exists()
    # Levels sit under the levels allowed for them.
    for level, parent_level in ((Level.COMMUNITY, Level.STREET), (Level.GRID, Level.COMMUNITY),
                                (Level.MICRO_GRID, Level.GRID), (Level.DEDICATED, Level.COMMUNITY)):
        assert not Grid.objects.filter(level=level).exclude(parent__level=parent_level).exists()


def assert_personal_data_consistent(sample=200):
    ids = list(Resident.objects.values_list("id", flat=True))
    for r in Resident.objects.filter(pk__in=random.Random(1).sample(ids, min(sample, len(ids)))):
        if r.phone_encrypted:
            assert r.phone_masked == crypto.mask_phone(r.phone) and r.phone_last4 == r.phone[-4:]
        assert valid_id_number(r.id_number)
        assert r.id_number_hash == crypto.keyed_hash(r.id_number)
        assert r.id_number_masked == crypto.mask_id_number(r.id_number)
        assert (r.name_pinyin, r.name_initials) == (full_pinyin(r.name), initials(r.name))
        # The ID number agrees with the stored birth date and gender.
        assert r.id_number[6:14] == r.birth_date.strftime("%Y%m%d")
        assert (int(r.id_number[16]) % 2 == 1) == (r.gender == "male")


@pytest.mark.django_db(transaction=False)
def test_demo_shape_rules_and_idempotence():
    out = seed("demo")
    assert "grids 171" in out
    blz = Grid.objects.get(code="CD-BL-BLZ")
    inside = tree.subtree_q([tree.span(blz)])
    levels = dict(Grid.objects.filter(inside).values_list("level").annotate(n=Count("id")))
    assert levels == {Level.COMMUNITY: 1, Level.GRID: 17, Level.MICRO_GRID: 117, Level.DEDICATED: 16}
    kinds = set(Grid.objects.filter(inside, level=Level.DEDICATED).values_list("kind", flat=True))
    assert kinds == {"school", "hospital", "enterprise", "market"}
    hh = Grid.objects.get(code="CD-BL-HH")
    assert Grid.objects.filter(tree.subtree_q([tree.span(hh)]), level=Level.GRID).count() == 3
    assert Grid.objects.get(code="CD-BL").level == Level.STREET

    households = Household.objects.filter(tree.subtree_q([tree.span(blz)], "grid__")).count()
    residents = Resident.objects.filter(tree.subtree_q([tree.span(blz)], "grid__"))
    assert 14_000 <= households <= 17_000
    assert 28_000 <= residents.count() <= 34_000
    tagged = residents.filter(tags__isnull=False).values("id").distinct().count()
    assert tagged >= 1_000
    alone = residents.filter(tags__code="elderly_alone").count() / residents.count()
    assert 0.02 <= alone <= 0.045
    elderly = residents.filter(birth_date__year__lte=1966).count() / residents.count()
    assert elderly > 0.2  # an old inner-city community

    # Named logins with the right roles on the right grids, all with the demo password.
    expected = {
        "street": (Role.STREET_DISPATCHER, "CD-BL"), "viewer": (Role.VIEWER, "CD-BL"),
        "secretary": (Role.SECRETARY, "CD-BL-BLZ"), "secretary2": (Role.SECRETARY, "CD-BL-HH"),
        "grid01": (Role.GRID_WORKER, "CD-BL-BLZ-G01"), "leader01": (Role.GRID_LEADER, "CD-BL-BLZ-G01"),
        "micro0101": (Role.MICRO_GRID_WORKER, "CD-BL-BLZ-G01-M01"),
        "micro0102": (Role.MICRO_GRID_WORKER, "CD-BL-BLZ-G01-M02"),
        "g05": (Role.GRID_WORKER, "CD-BL-BLZ-G05"), "m0503": (Role.MICRO_GRID_WORKER, "CD-BL-BLZ-G05-M03"),
    }
    for username, (role, code) in expected.items():
        assert Membership.objects.filter(user__username=username, role=role, grid__code=code).exists(), username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(DEMO_PASSWORD)
    assert User.objects.get(username="micro0101").check_password(DEMO_PASSWORD)
    for username, dept in (("water", "bl-water"), ("police", "bl-police")):
        assert DepartmentMember.objects.filter(user__username=username, department__code=dept).exists()
    assert Department.objects.filter(area__code="CD-BL").count() == 8
    # Every grid has someone holding it.
    assert not Grid.objects.filter(tree.subtree_q([tree.span(blz)])).exclude(memberships__isnull=False).exists()

    # Building names are distinct within a community, so a 台账 can name them.
    dupes = Building.objects.filter(grid__parent=blz).values("name").annotate(n=Count("id")).filter(n__gt=1)
    assert not dupes.exists()

    assert_structural_rules()
    assert_personal_data_consistent()
    assert_tree_is_what_mptt_computes()

    # The second run finds the street and adds nothing, quickly.
    before = table_counts()
    started = time.monotonic()
    out = seed("demo", "--logins")
    assert time.monotonic() - started < 10
    assert table_counts() == before
    assert "already loaded" in out and "micro0101" in out and DEMO_PASSWORD in out


@pytest.mark.django_db
def test_small_city_is_a_valid_tree_and_refuses_a_second_load():
    seed("city", "--scale", "0.01")
    district = Grid.objects.get(code="CT")
    assert district.level == Level.DISTRICT
    levels = dict(Grid.objects.values_list("level").annotate(n=Count("id")))
    assert levels == {Level.DISTRICT: 1, Level.STREET: 1, Level.COMMUNITY: 1, Level.GRID: 10,
                      Level.MICRO_GRID: 90, Level.DEDICATED: 3}
    assert tree.descendant_count(district) == 105
    assert Resident.objects.count() > 2_000
    assert Resident.tags.through.objects.filter(tag__code="elderly_alone").exists()
    # A user and membership for every grid, departments for the street.
    assert Membership.objects.values("grid_id").distinct().count() == Grid.objects.count()
    assert Department.objects.count() == 8 and DepartmentMember.objects.count() == 8
    assert User.objects.filter(username="admin", is_superuser=True).exists()
    assert_structural_rules()
    assert_personal_data_consistent(100)

    with pytest.raises(CommandError, match="already holds grids"):
        seed("city", "--scale", "0.01")
    seed("city", "--scale", "0.01", "--force")
    assert Grid.objects.filter(code="CT2", level=Level.DISTRICT).exists()
    second = Grid.objects.get(code="CT2")
    assert tree.descendant_count(second) == 105
    # Communities' last code segments stay unique (case numbers are built from them).
    suffixes = [code.rsplit("-", 1)[-1] for code in Grid.objects.filter(level=Level.COMMUNITY).values_list("code", flat=True)]
    assert len(suffixes) == len(set(suffixes)) == 2
    # Each city's ID numbers are its own.
    assert Resident.objects.values("id_number_hash").distinct().count() == Resident.objects.count()
    assert_tree_is_what_mptt_computes()


@pytest.mark.django_db
def test_a_tree_insert_after_the_seed_keeps_the_numbering_sound():
    seed("city", "--scale", "0.01")
    grid = Grid.objects.get(code="CT-S01-C001-G01")
    Grid.objects.create(code="CT-S01-C001-G01-M99", name="新微网格", level=Level.MICRO_GRID, parent=grid)
    assert_tree_is_what_mptt_computes()


def test_scale_must_be_positive():
    with pytest.raises(CommandError):
        call_command("seed", "city", "--scale", "0", stdout=io.StringIO())


def test_a_failing_app_seeder_is_reported_and_the_next_ones_still_run(monkeypatch):
    import sys
    import types

    from gridcase.core.seeding import SeedContext
    from gridcase.grids.management.commands import seed as command

    calls = []
    broken, fine = types.ModuleType("gridcase.zzbroken.seeding"), types.ModuleType("gridcase.zzfine.seeding")

    def boom(ctx):
        raise RuntimeError("boom")

    broken.seed_demo = boom
    fine.seed_demo = lambda ctx: calls.append(ctx.kind)
    monkeypatch.setitem(sys.modules, "gridcase.zzbroken.seeding", broken)
    monkeypatch.setitem(sys.modules, "gridcase.zzfine.seeding", fine)
    monkeypatch.setattr(command, "APP_ORDER", ["grids", "zzmissing", "zzbroken", "zzfine"])
    cmd = command.Command(stdout=io.StringIO(), stderr=io.StringIO())
    assert cmd.run_app_seeders(SeedContext(kind="demo")) == ["zzbroken"]
    assert calls == ["demo"]
    assert cmd.run_app_seeders(SeedContext(kind="demo"), only={"zzfine"}) == []
    assert calls == ["demo", "demo"]


@pytest.mark.django_db
def test_a_city_loaded_in_bulk_mode_has_every_index_and_its_residents_areas(monkeypatch):
    from django.db import connection

    from gridcase.grids.seeding import loader, places

    monkeypatch.setattr(loader, "BULK_MODE_FROM", 0)  # indexes dropped for the load, built again after it
    monkeypatch.setattr(places, "ENCRYPT_APART_FROM", 0)  # personal data encrypted in another process, as a city's
    out = io.StringIO()
    call_command("seed", "city", "--scale", "0.01", "--grids-only", stdout=out)
    assert_structural_rules()
    assert_personal_data_consistent(50)
    # the command's table: the phase, its rows and rows per second
    table = out.getvalue()
    assert "phase" in table and "rows/s" in table and f"resident {Resident.objects.count():,}" in table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                           "WHERE c.relname LIKE 'grids_%%' AND NOT i.indisvalid")
            assert cursor.fetchone()[0] == 0
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'grids_resident'")
            assert cursor.fetchone()[0] >= 5
    # residents carry their micro-grid's community and street (when the model keeps those copies)
    if hasattr(Resident, "community_id"):
        for r in Resident.objects.select_related("grid")[:200]:
            assert r.community_id == tree.ancestors(r.grid).get(level=Level.COMMUNITY).pk
            assert r.street_id == tree.ancestors(r.grid).get(level=Level.STREET).pk


@pytest.mark.django_db(transaction=True)
def test_city_seed_runs_visits_alongside_cases_in_another_process(monkeypatch):
    from gridcase.cases.models import Case
    from gridcase.grids.management.commands import seed as command
    from gridcase.visits.models import Visit

    ensure_reference_data()  # an earlier transactional test may have flushed the taxonomy and cadences
    from gridcase.stats import seeding as stats_seeding
    from gridcase.stats.models import HoldRollup, VisitCoverageGap

    monkeypatch.setattr(command, "ALONGSIDE_FROM", 0)
    monkeypatch.setattr(stats_seeding, "PARALLEL_FROM", 0)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("seed", "city", "--scale", "0.005", "--only", "cases,visits,stats", stdout=out, stderr=err)
    except CommandError as exc:  # the seeder's own traceback is in err
        pytest.fail(f"{exc}\n{err.getvalue()}")
    text = out.getvalue()
    assert "visits: running alongside" in text and "(alongside)" in text, err.getvalue()
    visits, cases = Visit.objects.count(), Case.objects.count()
    assert cases == 5000 and visits >= 10_000
    # the child's rows are in the table with the parent's
    assert f"visits {visits:,}" in text and f"cases {cases:,}" in text
    # the rollups that do not read cases were rebuilt in a process of their own, and their rows are here
    assert "visit coverage rollup rebuilt" in text and "(beside the case rollups)" in text
    assert HoldRollup.objects.exists() and VisitCoverageGap.objects.exists()
    assert f"hold times {HoldRollup.objects.count():,}" in text
    from django.db import connection

    if connection.vendor == "postgresql":  # vacuumed at the end: index-only scans need no heap visit at once
        assert "vacuum:" in text
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'cases_case'")
            assert cursor.fetchone()[0]
