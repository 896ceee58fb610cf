from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "gridcase.notifications"
    label = "notifications"
    verbose_name = "通知"
