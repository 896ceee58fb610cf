from django.apps import AppConfig
from django.db.models import signals


class CasesConfig(AppConfig):
    name = "gridcase.cases"
    label = "cases"
    verbose_name = "事件"

    def ready(self):
        from .models import CalendarDay, CalendarYear, Category, SlaPolicy

        # Any change, in the admin or elsewhere, makes every process reload the calendar (bulk writes call
        # workcalendar.invalidate() themselves).
        for signal in (signals.post_save, signals.post_delete):
            signal.connect(_calendar_changed, sender=CalendarDay, dispatch_uid="calendar-day-changed")
            signal.connect(_calendar_changed, sender=CalendarYear, dispatch_uid="calendar-year-changed")
            # Likewise the category tree (categories.py keeps it in memory).
            signal.connect(_categories_changed, sender=Category, dispatch_uid="category-changed")
            # And the SLA policies (sla.py keeps them per process).
            signal.connect(_policies_changed, sender=SlaPolicy, dispatch_uid="sla-policy-changed")


def _calendar_changed(sender, **kwargs):
    from . import workcalendar  # loaded once the app registry is ready (it reads the calendar models)

    workcalendar.invalidate()


def _categories_changed(sender, **kwargs):
    from . import categories

    categories.invalidate()


def _policies_changed(sender, **kwargs):
    from . import sla

    sla.invalidate()
