"""Deductions found by time passing: a care plan's contact overdue costs its responsible worker(s) once per due
date (`overdue_visit`, source the plan item and the date). Idempotent: the ledger's constraint decides."""

from django.db import transaction
from django.utils import timezone

from gridcase.visits.models import CarePlanItem
from gridcase.visits.services import responsible_workers

from .rules import award


def deduct_overdue_visits(today=None, batch=2000) -> int:
    today = today or timezone.localdate()
    written = 0
    items = (CarePlanItem.objects.filter(due_on__lt=today, care_plan__active=True)
             .select_related("care_plan__resident__grid").order_by("id"))
    last = 0
    while True:
        chunk = list(items.filter(id__gt=last)[:batch])
        if not chunk:
            return written
        last = chunk[-1].pk
        workers = responsible_workers([i.care_plan for i in chunk])
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.in_bulk({u for ids in workers.values() for u in ids})
        with transaction.atomic():
            for item in chunk:
                for uid in workers.get(item.care_plan_id, []):
                    if award("overdue_visit", item, users[uid], grid=item.care_plan.resident.grid,
                             suffix=item.due_on.isoformat()):
                        written += 1
