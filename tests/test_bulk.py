"""Bulk loading (gridcase.core.bulk): rows written by COPY read back like saved ones; bulk mode drops the
secondary indexes for a load and puts every one of them back."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from gridcase.core import bulk
from gridcase.grids.models import Household


def index_names(model) -> set:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [model._meta.db_table])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_copied_households_read_back_with_defaults_filled(city):
    unit = city.unit
    now = timezone.now()
    first = bulk.next_id(Household)
    table = bulk.CopyTable(Household, ["id", "unit_id", "room", "grid_id", "note"], now)
    pipeline = bulk.CopyPipeline()
    pipeline.put("household", table, [(first + i, unit.pk, f"9{i:02d}", city.micro.pk, "") for i in range(30)])
    pipeline.put("household", table, [(first + 30, unit.pk, "999", city.micro.pk, "")])
    assert pipeline.close() == {"household": 31}
    bulk.reset_sequence(Household)
    rows = Household.objects.filter(pk__gte=first).order_by("pk")
    assert [h.room for h in rows][:2] == ["900", "901"] and rows.count() == 31
    assert all(h.created_at == h.updated_at == now for h in rows)  # columns the caller did not give
    # The sequence moved past the explicit ids: the next saved household does not collide.
    assert Household.objects.create(unit=unit, room="1001", grid=city.micro).pk == first + 31


@pytest.mark.django_db(transaction=True)
def test_bulk_mode_drops_secondary_indexes_and_restores_them():
    if connection.vendor != "postgresql":
        pytest.skip("bulk mode is PostgreSQL only")
    before = index_names(Household)
    with transaction.atomic():
        dropped = bulk.bulk_mode([Household])
        assert dropped and index_names(Household) < before  # the primary key and constraints stay
        assert f"{Household._meta.db_table}_pkey" in index_names(Household)
        bulk.restore_indexes(dropped)
    assert index_names(Household) == before
