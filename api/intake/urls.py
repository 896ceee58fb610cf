"""Routes of the public resident intake (QR page, report, tracking): no sign-in."""

from django.urls import path

from . import views

urlpatterns = [
    path("intake/track/<str:code>/", views.TrackView.as_view(), name="intake-track"),
    path("intake/track/<str:code>/rate/", views.RateView.as_view(), name="intake-rate"),
    path("intake/<str:qr_token>/", views.IntakeView.as_view(), name="intake"),
]


def register(router):
    """No viewsets: plain views (`urlpatterns`)."""
