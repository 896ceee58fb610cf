from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "gridcase.visits"
    label = "visits"
    verbose_name = "走访"
