from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "gridcase.intake"
    label = "intake"
    verbose_name = "居民上报"
