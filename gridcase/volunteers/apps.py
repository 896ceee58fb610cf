from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "gridcase.volunteers"
    label = "volunteers"
    verbose_name = "楼栋长与志愿者"
