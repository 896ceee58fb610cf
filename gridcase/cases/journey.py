"""The case's journey: its hop ledger (`CaseHop`: which grid or department held it, from when to when) as the
case detail shows it, each hop with how long it held the case (until now for a hop still open).

`HOPS` is an annotation (one PostgreSQL array of JSON objects per case), so the detail carries its ledger in the
query that loads the case; `hops_of` reads one case's ledger with one query where no annotation was made.
"""

from datetime import UTC, datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.db.models.functions import JSONObject
from django.utils import timezone

from .models import CaseHop

FIELDS = dict(id="id", kind="kind", grid="grid_id", grid_name="grid__name", grid_level="grid_level",
              department="department_id", department_name="department__name", start_action="start_action",
              end_action="end_action", started_at="started_at", ended_at="ended_at")


def _rows(qs):
    return qs.order_by("id").values(json=JSONObject(**FIELDS))


HOPS = ArraySubquery(_rows(CaseHop.objects.filter(case_id=OuterRef("pk"))))


def _when(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    # PostgreSQL's JSON carries the offset; SQLite's is the stored UTC time without one.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def present(rows, now=None) -> list[dict]:
    """The hops (as `HOPS` gives them) with ISO times and `held_seconds`; `open` when still holding."""
    now = now or timezone.now()
    out = []
    for row in rows or ():
        started, ended = _when(row["started_at"]), _when(row["ended_at"])
        out.append({**row, "started_at": started.isoformat(), "ended_at": ended.isoformat() if ended else None,
                    "open": ended is None, "held_seconds": max(0, int(((ended or now) - started).total_seconds()))})
    return out


def hops_of(case_id: int) -> list[dict]:
    return [r["json"] for r in _rows(CaseHop.objects.filter(case_id=case_id))]
