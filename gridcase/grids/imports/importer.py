"""The import of a read table into a grid: access checked, rows parsed (`cells.py`), placed (`places.py`),
matched (`matching.py`) and written (`writing.py`) each in its own savepoint, one transaction per chunk of
rows; rows registered elsewhere handed to the street (`handoff.py`); the report and the audit record."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from gridcase.core import audit, crypto
from gridcase.core.errors import Forbidden, NotFound

from .. import tree
from ..choices import TAG_ALIASES, Level
from ..models import Grid, Tag
from ..roles import EDITOR_ROLES
from ..scoping import scope_for
from . import handoff
from .cells import parse_row
from .limits import check_deadline
from .matching import ResidentMatcher
from .places import Places
from .reading import Table, read_table
from .reasons import ImportFileError, NeedsReview, Refused, reason
from .writing import write_row


def tag_index() -> dict:
    """Every tag by its code, Chinese name, English name (lower case) and the words offices use for it in
    their 台账 (`choices.TAG_ALIASES`: 低保 → 低保户, 残疾 → 残疾人 …); a tag's own names win over an alias."""
    tags = {}
    all_tags = list(Tag.objects.all())
    by_code = {t.code: t for t in all_tags}
    for code, aliases in TAG_ALIASES.items():
        if code in by_code:
            for alias in aliases:
                tags[alias.strip().lower()] = by_code[code]
    for t in all_tags:
        for key in (t.code, t.name, t.name_en):
            if key:
                tags[key.strip().lower()] = t
    return tags


class ResidentImporter:
    def __init__(self, user, grid: Grid, *, job=None, transfers=frozenset(), check_access=True):
        """`job`: the ImportJob a review is filed under; `transfers`: ID-number hashes whose residents may
        move here from outside the grid (a merge decided by the street); `check_access=False` only for such
        a decision, whose own rules (reviews.py) replace the editor-role check."""
        scope = scope_for(user)
        if check_access and not scope.covers(grid):
            raise NotFound()
        if check_access and not scope.is_global and not scope.roles_at(grid) & EDITOR_ROLES:
            raise Forbidden()
        if grid.level not in (Level.COMMUNITY, Level.GRID, Level.MICRO_GRID):
            raise ImportFileError("invalid_grid")
        self.user, self.grid, self.job = user, grid, job
        span = tree.span(grid)
        self.places = Places(grid, span)
        self.tags = tag_index()
        self.matcher = ResidentMatcher(span, transfers)

    def preload_households(self):
        self.places.preload_households()

    # one row -----------------------------------------------------------------------------
    def import_row(self, line, cells, columns) -> dict:
        row = parse_row(line, cells, columns, self.tags)
        v = row.values
        result = {"row": line, "name": v["name"]}
        if not row.reasons:
            micro = self.places.find_micro(row)
            building = self.places.find_building(row, micro) if not row.reasons else None
            unit, new_unit_name = self.places.find_unit(row, building, micro) if building else (None, None)
        if row.reasons:
            return result | {"status": "refused", "reasons": row.reasons}
        id_hash = crypto.keyed_hash(v["id_number"]) if v["id_number"] else ""
        earlier = self.matcher.earlier_row(id_hash)
        if earlier is not None:
            return result | {"status": "refused", "reasons": [reason("duplicate_in_file", row=earlier)]}
        try:
            try:
                with transaction.atomic():
                    outcome, learned = write_row(row, self.places, self.matcher, building, micro, unit,
                                                 new_unit_name, id_hash)
            except (ValidationError, Refused, IntegrityError):
                self.matcher.forget(id_hash)
                raise
        except ValidationError as exc:
            return result | {"status": "refused", "reasons": self.validation_reasons(exc)}
        except Refused as exc:
            if isinstance(exc, NeedsReview):
                self.hold_for_review(line, cells, columns, row, exc.resident)
            return result | {"status": "refused", "reasons": [exc.reason]}
        except IntegrityError:
            # Someone else wrote the same unit or household meanwhile: this row is refused, the file goes on.
            return result | {"status": "refused", "reasons": [reason("concurrent_change")]}
        # The savepoint held: now the caches may learn what it created.
        self.places.learn(learned.units, learned.households)
        self.matcher.remember(line, id_hash, learned.name_key)
        return result | outcome

    def hold_for_review(self, line, cells, columns, row, resident):
        handoff.queue(grid=self.grid, job=self.job, user=self.user, line=line, cells=cells, columns=columns,
                      values=row.values, resident=resident)

    def validation_reasons(self, exc: ValidationError):
        messages = exc.messages if hasattr(exc, "messages") else [str(exc)]
        return [reason("invalid_row", detail="; ".join(str(m) for m in messages))]

    # the whole file ------------------------------------------------------------------------
    def run(self, table: Table, progress=None, chunk: int = 200, deadline: float | None = None) -> dict:
        rows, counts = [], {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
        total = len(table.rows)
        self.preload_households()
        for start in range(0, total, chunk):
            check_deadline(deadline)  # chunks already committed stay: importing the file again is safe
            # One transaction per chunk (one commit, not one per row); each row still has its own savepoint.
            self.matcher.prefetch(table, table.rows[start:start + chunk])
            with transaction.atomic():
                for line, cells in table.rows[start:start + chunk]:
                    result = self.import_row(line, cells, table.columns)
                    counts[result["status"]] += 1
                    rows.append(result)
            if progress:
                progress(min(start + chunk, total), total, counts)
        audit.record(self.user, "import", [self.grid], ["residents"], file_type=table.file_type, rows=total,
                     **counts)
        return {"grid": self.grid.pk, "file_type": table.file_type, "total": total, **counts, "rows": rows}


def import_file(user, grid, data: bytes, progress=None, job=None, deadline: float | None = None) -> dict:
    """Check, read and import a whole file; returns the report (reason codes, see `render_report`)."""
    importer = ResidentImporter(user, grid, job=job)
    table = read_table(data, deadline=deadline)
    return importer.run(table, progress=progress, deadline=deadline)
