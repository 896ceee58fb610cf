"""A kept case's duplicates: the reports merged into it (the workflow's `merge` sets their `merged_into`).

`duplicates_annotation(scope)` is an annotation (one PostgreSQL array of JSON objects per case, as the hop
ledger's), so the case detail lists them in the query that loads the case; only the duplicates the caller may
see are listed. `duplicates_of` reads them with one query where no annotation was made.
"""

from datetime import UTC, datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.db.models.functions import JSONObject

from .models import Case

FIELDS = dict(id="id", number="number", title="title", created_at="created_at", source="source")


def _visible(scope):
    qs = Case.objects.all()
    return qs.restrict(scope) if scope is not None else qs


def _rows(qs):
    return qs.order_by("created_at", "id").values(json=JSONObject(**FIELDS))


def duplicates_annotation(scope):
    return ArraySubquery(_rows(_visible(scope).filter(merged_into_id=OuterRef("pk"))))


def duplicates_of(case_id: int, scope) -> list[dict]:
    return [r["json"] for r in _rows(_visible(scope).filter(merged_into_id=case_id))]


def when(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # SQLite's JSON has no offset
