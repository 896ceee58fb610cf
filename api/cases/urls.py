"""Routes of cases (actions included: one route per row of the action table), categories, reply templates and
hotspots (未诉先办)."""

from . import hotspots, views

urlpatterns: list = []


def register(router):
    router.register("cases", views.CaseViewSet, basename="case")
    router.register("categories", views.CategoryViewSet, basename="category")
    router.register("response-templates", views.ResponseTemplateViewSet, basename="response-template")
    router.register("hotspots", hotspots.HotspotViewSet, basename="hotspot")
