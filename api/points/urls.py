"""Routes of points (积分): ledger, rankings, rewards, redemptions, residents' credit and its public page."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("credit/<str:code>/", views.PublicCreditView.as_view(), name="public-credit"),
]


def register(router):
    router.register("points", views.PointEntryViewSet, basename="point-entry")
    router.register("rewards", views.RewardViewSet, basename="reward")
    router.register("redemptions", views.RedemptionViewSet, basename="redemption")
    router.register("credits", views.ResidentCreditViewSet, basename="credit")
