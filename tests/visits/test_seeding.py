"""The demo seeder: plans and a believable history, computed in bulk exactly as the services would."""

import io

from django.utils import timezone

from gridcase.core.seeding import SeedContext
from gridcase.grids.models import Resident, Tag
from gridcase.visits import seeding
from gridcase.visits.models import CarePlan, CarePlanItem, Visit
from gridcase.visits.services import refresh_plan

from .. import factories as f


def bulk_tagged(city, n=8):
    """Residents tagged the way the grids seeder does it (COPY into the through table: no signals)."""
    people = [f.resident(f.household(city.unit, f"{300 + i}"), f"老人{i}") for i in range(n)]
    alone = Tag.objects.get(code="elderly_alone")
    Resident.tags.through.objects.bulk_create([Resident.tags.through(resident=p, tag=alone) for p in people])
    return people


def context(city):
    ctx = SeedContext(kind="demo", stdout=io.StringIO(), now=timezone.now())
    ctx.root = city.street
    return ctx


def snapshot(plan):
    return sorted(CarePlanItem.objects.filter(care_plan=plan).values_list("kind", "every_n_days", "last_contact_on",
                                                                        "due_on"))


def test_demo_seed_gives_plans_history_and_stories_and_is_idempotent(city):
    people = bulk_tagged(city)
    first = seeding.seed_demo(context(city))
    assert first["plans"] == len(people)  # the fixture's 王秀英 already had a plan
    assert Visit.objects.filter(resident__in=people).count() == first["visits"] > 100
    # Worsened, then recovered: an urgent visit (which opened a case), daily calls, and good now.
    story = CarePlan.objects.get(resident__visits__wellbeing="urgent")
    urgent = Visit.objects.get(resident=story.resident, wellbeing="urgent")
    assert urgent.case_id is not None
    assert story.wellbeing == "good" and not story.escalated
    # Unwell since yesterday: a daily call is due today.
    worried = CarePlan.objects.filter(escalated=True).first()
    phone = CarePlanItem.objects.get(care_plan=worried, kind="phone")
    assert phone.every_n_days == 1 and phone.due_on == timezone.localdate()
    # The bulk computation agrees with the service that maintains plans after each visit.
    for plan in CarePlan.objects.filter(resident__in=people).select_related("resident__grid"):
        before = snapshot(plan)
        refresh_plan(plan)
        assert snapshot(plan) == before, plan.resident.name
    # A second run adds nothing.
    again = seeding.seed_demo(context(city))
    assert again == {"plans": 0, "visits": 0}
    assert Visit.objects.count() == first["visits"]


def test_city_seed_reaches_its_visit_target(city, monkeypatch):
    bulk_tagged(city, 20)
    monkeypatch.setattr(seeding, "CITY_VISITS", 3000)
    ctx = context(city)
    ctx.kind, ctx.scale = "city", 1.0
    result = seeding.seed_city(ctx)
    assert result["visits"] >= 3000


def test_city_seed_in_bulk_mode_keeps_the_client_uuid_keys_and_the_indexes(city, monkeypatch):
    import uuid

    import pytest
    from django.db import IntegrityError, connection, transaction

    from gridcase.core import partitions

    bulk_tagged(city, 20)
    monkeypatch.setattr(seeding, "CITY_VISITS", 3000)
    monkeypatch.setattr(seeding, "BULK_MODE_FROM", 0)  # drop the indexes, keys added after the load
    ctx = context(city)
    ctx.kind, ctx.scale = "city", 1.0
    result = seeding.seed_city(ctx)
    assert ctx.rows["visits"] == result["visits"] == Visit.objects.count() >= 3000
    if not partitions.applies(connection):
        return
    key = partitions.KEYS["visits_visit"]
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{key.table}" k JOIN visits_visit v ON v.id = k.visit_id '
                       f"AND v.client_uuid = k.client_uuid")
        assert cursor.fetchone()[0] == result["visits"]
        # every index is back, valid, on the table and its partitions
        cursor.execute("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                       "WHERE c.relname LIKE 'visits_visit%%' AND NOT i.indisvalid")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'visits_visit'::regclass "
                       "AND contype = 'p'")
        assert cursor.fetchone()[0] == "PRIMARY KEY (id, visited_at)"  # dropped for the load, built again
    # a phone resending a seeded visit's uuid is still refused
    seeded = Visit.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(client_uuid=seeded.client_uuid, resident=seeded.resident, grid_id=seeded.grid_id,
                             kind=seeded.kind, visited_at=seeded.visited_at, visited_on=seeded.visited_on,
                             wellbeing="good")
    assert uuid.UUID(str(seeded.client_uuid)).version == 4
