"""Routes of leads and volunteers: staff viewsets, and the light account's pages under /lead/."""

from django.urls import path

from . import views

urlpatterns = [
    path("lead/me/", views.LeadMeView.as_view(), name="lead-me"),
    path("lead/notices/", views.LeadNoticesView.as_view(), name="lead-notices"),
    path("lead/notices/<int:pk>/read/", views.LeadNoticeReadView.as_view(), name="lead-notice-read"),
    path("lead/neighbours/", views.NeighboursView.as_view(), name="lead-neighbours"),
    path("lead/neighbours/<str:pk>/", views.NeighbourView.as_view(), name="lead-neighbour"),
    path("lead/check-ins/", views.LeadCheckInsView.as_view(), name="lead-check-ins"),
    path("lead/activities/", views.LeadActivitiesView.as_view(), name="lead-activities"),
    path("lead/activities/<int:pk>/sign-up/", views.LeadSignUpView.as_view(), name="lead-sign-up"),
]


def register(router):
    router.register("volunteers", views.VolunteerViewSet, basename="volunteer")
    router.register("check-ins", views.CheckInViewSet, basename="check-in")
    router.register("activities", views.ActivityViewSet, basename="activity")
