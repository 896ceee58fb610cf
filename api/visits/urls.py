"""Routes of visits (and the day's round, `visits/due/`) and care plans. Visit coverage is a figure: api/stats."""

from . import patrol, views

urlpatterns: list = []


def register(router):
    router.register("visits", views.VisitViewSet, basename="visit")
    router.register("care-plans", views.CarePlanViewSet, basename="care-plan")
    router.register("patrol-entries", patrol.PatrolEntryViewSet, basename="patrol-entry")
