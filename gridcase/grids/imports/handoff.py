"""The hand-off to the street's review queue: a row whose ID number is registered outside the import's grid
is not imported; it is kept here (its cells encrypted) until the street decides (`reviews.decide`).

One pending review per grid and ID number: importing the same file again refreshes it, never duplicates it.
"""

import json
from datetime import date, datetime, time

from django.db import IntegrityError, transaction

from gridcase.core import crypto

from ..models import ImportReview


def json_cell(value):
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
    row = json.dumps({"columns": columns, "cells": [json_cell(c) for c in cells]}, ensure_ascii=False)
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
