from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gridcase.core"
    label = "core"
    verbose_name = "基础"
