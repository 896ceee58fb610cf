"""The points hooks on the case workflow and on visits: each writes its entry in the transaction of the event
(post_save of the CaseEvent / Visit runs inside it), so the entry and its source commit or roll back together.

- `resolve`: the resolver earns `case_resolved_on_time` when the handling deadline had not passed.
- `rate` / `callback` with "satisfied": the case's assignee earns `good_rating`.
- `sla_red`: the assignee (if any) loses `sla_red`, once per case and stage.
- `close` of a resident's report naming the resident: the resident earns `resident_report_resolved`.
- a visit: the visitor earns `visit_on_time` when the resident's plan had it due on or after the visit's day.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from gridcase.cases.models import Case, CaseEvent
from gridcase.visits.models import CarePlanItem, Visit

from .rules import award


@receiver(post_save, sender=CaseEvent, dispatch_uid="points-case-events")
def case_event(sender, instance, created, raw=False, **kwargs):
    if raw or not created or instance.action not in ("resolve", "rate", "callback", "sla_red", "close"):
        return
    # The workflow hands the event the case it has just written (the compare-and-set made it the stored row):
    # read it again only when the event came without it.
    if CaseEvent.case.is_cached(instance):
        case = instance.case
    else:
        case = Case.objects.select_related("grid", "assignee", "resident").filter(pk=instance.case_id).first()
    if case is None:
        return
    at = instance.at
    if instance.action == "resolve" and instance.actor_id:
        if case.handle_by is None or at <= case.handle_by:
            award("case_resolved_on_time", case, instance.actor, grid=case.grid, at=at)
    elif instance.action in ("rate", "callback") and case.rating == "satisfied" and case.assignee_id:
        award("good_rating", case, case.assignee, grid=case.grid, at=at)
    elif instance.action == "sla_red" and case.assignee_id:
        stage = (instance.payload or {}).get("stage") or case.sla_stage
        award("sla_red", case, case.assignee, grid=case.grid, at=at, suffix=str(stage))
    elif instance.action == "close" and case.source == "resident" and case.resident_id:
        award("resident_report_resolved", case, case.resident, grid=case.grid, at=at)


@receiver(post_save, sender=Visit, dispatch_uid="points-visits")
def visit_saved(sender, instance, created, raw=False, **kwargs):
    if raw or not created or instance.visitor_id is None or instance.resident_id is None:
        return
    due = CarePlanItem.objects.filter(care_plan__resident_id=instance.resident_id, care_plan__active=True,
                                      kind=instance.kind, due_on__isnull=False).values_list("due_on", flat=True).first()
    if on_time(instance.visited_on, due):
        award("visit_on_time", instance, instance.visitor, grid=instance.grid, at=instance.visited_at)


def on_time(visited_on, due_on) -> bool:
    """A visit is on time when its plan had it due on or after the visit's day."""
    return due_on is not None and visited_on <= due_on
