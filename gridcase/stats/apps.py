from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "gridcase.stats"
    label = "stats"
    verbose_name = "统计"
