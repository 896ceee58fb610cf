"""Routes of campaigns (专项排查) and their tasks."""

from . import views

urlpatterns: list = []


def register(router):
    router.register("campaigns", views.CampaignViewSet, basename="campaign")
    router.register("campaign-tasks", views.CampaignTaskViewSet, basename="campaign-task")
