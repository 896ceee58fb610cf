from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "gridcase.jobs"
    label = "jobs"
    verbose_name = "后台任务"
