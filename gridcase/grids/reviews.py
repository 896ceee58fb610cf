"""The street's review queue for imported rows whose ID number is registered outside the import's grid.

An import must not tell a worker that a person is registered in another community. Such a row is not
imported; the uploader's report says `needs_review` and nothing else, and the row waits here (one pending
review per grid and ID number: importing the same file again refreshes it, never duplicates it).

Street dispatchers and administrators holding the import's grid (or an ancestor) see the queue and decide:
- **merge**: the registered resident moves into the row's household with the row's data, exactly as the
  importer writes any row (the decider must also hold the resident's current grid; otherwise an
  administrator decides);
- **dismiss**: nothing changes.
Each decision is a compare-and-set on the pending review and is written to the audit log.
"""

import json
from datetime import date, datetime, time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core import audit, crypto
from gridcase.core.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .models import ImportReview
from .scoping import scope_for

DECISIONS = {"merge": ImportReview.Status.MERGED, "dismiss": ImportReview.Status.DISMISSED}


def _json_cell(value):
    """A cell as JSON keeps it for the importer: numbers stay numbers, dates become ISO dates."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def queue(*, grid, job, user, line: int, cells, columns: dict, values: dict, resident) -> ImportReview:
    """Hold a row for the street (or refresh the pending review of the same person for the same grid)."""
    place = " ".join(v for v in (values.get("building"), values.get("unit"), values.get("room")) if v)
    row = json.dumps({"columns": columns, "cells": [_json_cell(c) for c in cells]}, ensure_ascii=False)
    id_hash = crypto.keyed_hash(values["id_number"])
    review = ImportReview.objects.filter(grid=grid, id_number_hash=id_hash,
                                         status=ImportReview.Status.PENDING).first()
    review = review or ImportReview(grid=grid)
    review.job, review.uploaded_by, review.row = job, user, line
    review.name, review.place = values.get("name", "")[:60], place[:200]
    review.id_number = values["id_number"]
    review.row_encrypted = crypto.encrypt(row)
    review.resident = resident
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError:  # a concurrent import of the same person: the constraint keeps one pending review
        return ImportReview.objects.get(grid=grid, id_number_hash=id_hash, status=ImportReview.Status.PENDING)
    return review


def row_of(review) -> tuple[dict, list]:
    data = json.loads(crypto.decrypt(review.row_encrypted) or "{}")
    return data.get("columns", {}), data.get("cells", [])


def decide(user, review_id: int, decision: str, note: str = "") -> ImportReview:
    """Merge or dismiss a pending review in the caller's scope (404 outside it, 409 when already decided)."""
    from . import importer

    if decision not in DECISIONS:
        raise ValidationFailed(fields={"decision": [_("Choose merge or dismiss.")]})
    scope = scope_for(user)
    with transaction.atomic():
        review = (ImportReview.objects.restrict(user).select_for_update(of=("self",))
                  .select_related("grid").filter(pk=review_id).first())
        if review is None:
            raise NotFound()
        if review.status != ImportReview.Status.PENDING:
            raise Conflict(_("This row has already been decided."), code="already_decided")
        if decision == "merge":
            resident = review.resident
            if resident is None:
                raise Conflict(_("The registered resident no longer exists; dismiss this row and import it again."),
                               code="resident_gone")
            if not scope.covers(resident.grid):
                raise Forbidden(_("The registered resident lives outside your area; an administrator decides."))
            columns, cells = row_of(review)
            runner = importer.ResidentImporter(user, review.grid, transfers={review.id_number_hash},
                                               check_access=False)
            runner.preload_households()
            result = runner.import_row(review.row, cells, columns)
            if result["status"] == "refused":
                messages = [importer.render_reason(r) for r in result.get("reasons", [])]
                raise ValidationFailed(_("The row cannot be applied: %(reasons)s") % {"reasons": " ".join(messages)},
                                       code="row_refused", fields={"row": messages})
            review.resident_id = result["resident"]
        review.status = DECISIONS[decision]
        review.decided_by, review.decided_at, review.note = user, timezone.now(), (note or "")[:500]
        review.save(update_fields=["status", "resident", "decided_by", "decided_at", "note", "updated_at"])
        audit.record(user, f"import_review_{decision}", [review], ["status"])
    return review
