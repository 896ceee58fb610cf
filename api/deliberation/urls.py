"""Routes of deliberation (议事): topics and their consultations (meetings)."""

from . import views

urlpatterns: list = []


def register(router):
    router.register("topics", views.TopicViewSet, basename="topic")
    router.register("meetings", views.MeetingViewSet, basename="meeting")
