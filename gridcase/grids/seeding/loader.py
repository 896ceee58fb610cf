"""One load of a `Plan`: explicit primary keys handed out in memory, then the tree (`forest.py`), places and
people (`places.py`, `residents.py`), departments and accounts (`accounts.py`), in one transaction."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from gridcase.core.bulk import analyze, bulk_mode, next_id, restore_indexes

from ..models import Building, Department, DepartmentMember, Grid, Household, Membership, Resident, Tag, Unit
from ..people import PeopleGenerator
from . import accounts, forest, places
from .plans import Plan
from .residents import Residents

User = get_user_model()
BULK_MODE_FROM = 50_000  # households in the plan: from this many, bulk mode (core.bulk) for the load


class Ids:
    """Explicit primary keys, so parents and children can be written in one pass without reading back."""

    def __init__(self, *models):
        self.next = {m: next_id(m) for m in models}

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class Loader:
    def __init__(self, ctx, plan: Plan):
        self.ctx, self.plan, self.rng = ctx, plan, ctx.rng
        self.now = ctx.now
        self.today = date.fromisoformat(ctx.now.date().isoformat())
        self.people = PeopleGenerator(self.rng, self.today, regions=plan.id_regions)
        self.ids = Ids(Grid, Building, Unit, Household, Resident, Resident.tags.through, User, Membership,
                       Department, DepartmentMember)
        self.residents = Residents(self.rng, self.people, self.ids, dict(Tag.objects.values_list("code", "id")),
                                   self.now)
        self.counts: dict = {}

    def count(self, key, n):
        self.counts[key] = self.counts.get(key, 0) + n
        self.ctx.count(key, n)

    def run(self):
        with transaction.atomic():
            # A city's places and people are loaded without their secondary indexes, built once at the end.
            big = sum(n.households for n in self.plan.nodes) >= BULK_MODE_FROM
            dropped = bulk_mode([Building, Unit, Household, Resident, Resident.tags.through]) if big else []
            grids = forest.load_grids(self)
            places.load_places_and_people(self)
            accounts.load_departments_and_users(self)
            restore_indexes(dropped)
        analyze([Grid, Building, Unit, Household, Resident, Resident.tags.through, User, Membership, Department,
                 DepartmentMember])
        root = next(g for g in grids if g.parent_id is None)
        return Grid.objects.get(pk=root.pk)
