"""Routes of the 台账 import (jobs and their reports) and of the rows held for the street's review."""

from . import reviews, views

urlpatterns: list = []


def register(router):
    router.register("imports", views.ImportViewSet, basename="import")
    router.register("import-reviews", reviews.ImportReviewViewSet, basename="import-review")
