"""Care plans follow key-population tags: tagging a resident starts a plan, untagging the last tag ends it.

Listens to `Resident.tags` changes from either side (resident.tags.set(...) as in
`gridcase.grids.services.set_resident_tags`, or tag.residents.add(...)).
"""

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from gridcase.grids.models import Resident

from . import services


@receiver(m2m_changed, sender=Resident.tags.through, dispatch_uid="visits.tags_changed")
def tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:
        if action == "pre_clear":
            return
        services.sync_care_plan(instance)
        return
    # tag.residents.add/remove(...): instance is the Tag; pk_set the residents (None on clear).
    if action == "pre_clear":
        instance._visits_cleared = list(instance.residents.values_list("pk", flat=True))
        return
    ids = pk_set if action != "post_clear" else getattr(instance, "_visits_cleared", [])
    for resident in Resident.objects.filter(pk__in=ids).select_related("grid"):
        services.sync_care_plan(resident)


@receiver(post_save, sender=Resident, dispatch_uid="visits.resident_saved")
def resident_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    # A resident marked inactive (moved away, deceased) leaves the round; reactivated, comes back.
    if raw or created:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    plan_active = services.CarePlan.objects.filter(resident=instance, active=True).exists()
    if plan_active != instance.is_active:
        services.sync_care_plan(instance)
