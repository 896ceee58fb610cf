"""Routes of the 12345 hotline link under /api/v1/ (Open311 has its own prefix: open311_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("hotline/inbound/", views.HotlineInboundView.as_view(), name="hotline-inbound"),
    path("hotline/tickets/", views.HotlineTicketsView.as_view(), name="hotline-tickets"),
]


def register(router):
    """No viewsets: plain views (`urlpatterns`)."""
