"""Background jobs (gridcase.jobs): progress and the owner's download."""

from . import views

urlpatterns: list = []


def register(router):
    router.register("jobs", views.JobViewSet, basename="job")
