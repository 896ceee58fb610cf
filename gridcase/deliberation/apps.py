from django.apps import AppConfig
from django.db.models import signals


def _case_event_written(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import on_case_event

        on_case_event(instance)


class DeliberationConfig(AppConfig):
    name = "gridcase.deliberation"
    label = "deliberation"
    verbose_name = "议事"

    def ready(self):
        from gridcase.cases.models import CaseEvent

        # The case workflow appends a CaseEvent for every transition (engine.record_event): a closed or reopened
        # case that is a topic's action moves its topic, in the same transaction (services.on_case_event).
        signals.post_save.connect(_case_event_written, sender=CaseEvent, dispatch_uid="deliberation-case-event")
