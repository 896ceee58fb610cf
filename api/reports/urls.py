"""Reports made as background jobs (the monthly report); exports are actions of their lists (api/exports.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("reports/monthly/", views.MonthlyReportView.as_view(), name="reports-monthly"),
]


def register(router):
    """No viewsets."""
