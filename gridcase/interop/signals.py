"""After a case event commits, a case that came from the 12345 hotline gets its stage's callback written.

The lookup runs after commit (not inside the action's queries) and never fails the request: the sweep
(`interop.tasks.sync_hotline_callbacks`) catches up what a crash or an error left."""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from gridcase.cases.models import CaseEvent

logger = logging.getLogger("gridcase.interop.hotline")


@receiver(post_save, sender=CaseEvent, dispatch_uid="interop-hotline-callbacks")
def _case_event(sender, instance, created, **kwargs):
    from .hotline import STAGE_OF_ACTION, sync_case
    from .models import HotlineTicket

    # A merge is no stage of its own, but a merged ticket is called back at the stages the kept case reached.
    if not created or (instance.action not in STAGE_OF_ACTION and instance.action != "merge"):
        return
    case_id = instance.case_id

    def run():
        try:
            sync_case(case_id)
            # Tickets whose cases were merged into this one hear of its progress too.
            for merged_id in HotlineTicket.objects.filter(case__merged_into_id=case_id).values_list("case_id", flat=True):
                sync_case(merged_id)
        except Exception:  # noqa: BLE001 - the sweep retries; the action itself succeeded
            logger.exception("Could not write the 12345 callbacks of case %s; the sweep will.", case_id)

    transaction.on_commit(run)
