from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "gridcase.visits"
    label = "visits"
    verbose_name = "走访"

    def ready(self):
        from . import signals  # noqa: F401
