from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "gridcase.interop"
    label = "interop"
    verbose_name = "对接 (Open311, 12345)"

    def ready(self):
        from gridcase.notifications import channels

        from . import hotline, signals  # noqa: F401 - connects the case-event receiver

        channels.register(hotline.CallbackChannel())
