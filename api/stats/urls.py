"""Routes of the dashboard figures (every one, visit coverage included, parsed by gridcase.stats.params)."""

from django.urls import path

from . import views

urlpatterns = [
    path("stats/summary/", views.SummaryView.as_view(), name="stats-summary"),
    path("stats/timeseries/", views.TimeseriesView.as_view(), name="stats-timeseries"),
    path("stats/grid-ranking/", views.GridRankingView.as_view(), name="stats-grid-ranking"),
    path("stats/departments/", views.DepartmentsView.as_view(), name="stats-departments"),
    path("stats/visit-coverage/", views.VisitCoverageView.as_view(), name="stats-visit-coverage"),
    path("stats/hold-times/", views.HoldTimesView.as_view(), name="stats-hold-times"),
]


def register(router):
    """No viewsets: plain views (`urlpatterns`)."""
