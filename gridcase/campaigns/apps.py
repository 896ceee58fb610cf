from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "gridcase.campaigns"
    label = "campaigns"
    verbose_name = "专项排查"
