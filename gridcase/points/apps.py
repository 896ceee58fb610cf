from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "gridcase.points"
    label = "points"
    verbose_name = "积分"

    def ready(self):
        from . import signals  # noqa: F401
