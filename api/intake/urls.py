"""Routes of the public resident intake (QR page, report, tracking): no sign-in."""

from django.urls import path

from . import views

urlpatterns = [
    path("intake/posters/", views.PosterView.as_view(), name="intake-posters"),
    path("intake/qr/<int:grid_id>/", views.QrSettingsView.as_view(), name="intake-qr"),
    path("intake/qr/<int:grid_id>/rotate/", views.QrRotateView.as_view(), name="intake-qr-rotate"),
    path("intake/track/<str:code>/", views.TrackView.as_view(), name="intake-track"),
    path("intake/track/<str:code>/rate/", views.RateView.as_view(), name="intake-rate"),
    path("intake/track/<str:code>/photos/", views.PhotoView.as_view(), name="intake-photos"),
    path("intake/<str:qr_token>/similar/", views.SimilarView.as_view(), name="intake-similar"),
    path("intake/<str:qr_token>/follow/", views.FollowView.as_view(), name="intake-follow"),
    path("intake/<str:qr_token>/", views.IntakeView.as_view(), name="intake"),
]


def register(router):
    """No viewsets: plain views (`urlpatterns`)."""
