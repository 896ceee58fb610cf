"""Routes of the inbox."""

from . import views

urlpatterns: list = []


def register(router):
    router.register("notifications", views.NotificationViewSet, basename="notification")
