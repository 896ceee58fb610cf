"""Routes of the domain apps beyond the foundation (cases, visits, notifications, stats, intake).

Each app adds its viewsets in `register` and any plain paths to `urlpatterns` (all under /api/v1/).
Keep one line per app so parallel work does not collide.
"""

urlpatterns: list = []


urlpatterns += __import__("api.stats.urls", fromlist=["urlpatterns"]).urlpatterns
urlpatterns += __import__("api.intake.urls", fromlist=["urlpatterns"]).urlpatterns
urlpatterns += __import__("api.files", fromlist=["urlpatterns"]).urlpatterns
urlpatterns += __import__("api.system", fromlist=["urlpatterns"]).urlpatterns


def register(router):
    __import__("api.cases.views", fromlist=["register"]).register(router)
    router.register("imports", __import__("api.imports.views", fromlist=["x"]).ImportViewSet, basename="import")
    router.register("import-reviews", __import__("api.imports.reviews", fromlist=["x"]).ImportReviewViewSet,
                    basename="import-review")
    from .notifications.views import NotificationViewSet

    router.register("notifications", NotificationViewSet, basename="notification")
    from .visits.views import CarePlanViewSet, VisitViewSet

    router.register("visits", VisitViewSet, basename="visit")
    router.register("care-plans", CarePlanViewSet, basename="care-plan")
    return router
