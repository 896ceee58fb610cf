from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "gridcase.notices"
    label = "notices"
    verbose_name = "居务公开"
