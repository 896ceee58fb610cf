"""The street's review queue for imported rows whose ID number is registered outside the import's grid.

An import must not tell a worker that a person is registered in another community. Such a row is not
imported; the uploader's report says `needs_review` and nothing else, and the row waits in the queue
(`handoff.py`: one pending review per grid and ID number, refreshed by a second import of the same file).

Street dispatchers and administrators holding the import's grid (or an ancestor) see the queue and decide:
- **merge**: the registered resident moves into the row's household with the row's data, exactly as the
  importer writes any row (the decider must also hold the resident's current grid; otherwise an
  administrator decides);
- **dismiss**: nothing changes.
Each decision is a compare-and-set on the pending review and is written to the audit log.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core import audit
from gridcase.core.errors import Conflict, Forbidden, NotFound, ValidationFailed

from ..models import ImportReview
from ..scoping import scope_for
from .handoff import row_of
from .importer import ResidentImporter
from .reasons import render_reason

DECISIONS = {"merge": ImportReview.Status.MERGED, "dismiss": ImportReview.Status.DISMISSED}


def decide(user, review_id: int, decision: str, note: str = "") -> ImportReview:
    """Merge or dismiss a pending review in the caller's scope (404 outside it, 409 when already decided)."""
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
            runner = ResidentImporter(user, review.grid, transfers={review.id_number_hash},
                                               check_access=False)
            runner.preload_households()
            result = runner.import_row(review.row, cells, columns)
            if result["status"] == "refused":
                messages = [render_reason(r) for r in result.get("reasons", [])]
                raise ValidationFailed(_("The row cannot be applied: %(reasons)s") % {"reasons": " ".join(messages)},
                                       code="row_refused", fields={"row": messages})
            review.resident_id = result["resident"]
        review.status = DECISIONS[decision]
        review.decided_by, review.decided_at, review.note = user, timezone.now(), (note or "")[:500]
        review.save(update_fields=["status", "resident", "decided_by", "decided_at", "note", "updated_at"])
        audit.record(user, f"import_review_{decision}", [review], ["status"])
    return review
