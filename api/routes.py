"""Routes of the domain apps beyond the foundation (cases, visits, notifications, stats, intake).

Each app adds its viewsets in `register` and any plain paths to `urlpatterns` (all under /api/v1/).
Keep one line per app so parallel work does not collide.
"""

urlpatterns: list = []


def register(router):
    from .notifications.views import NotificationViewSet

    router.register("notifications", NotificationViewSet, basename="notification")
    return router
