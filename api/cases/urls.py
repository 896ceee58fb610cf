"""Routes of cases (actions included: one route per row of the action table), categories and reply templates."""

from . import views

urlpatterns: list = []


def register(router):
    router.register("cases", views.CaseViewSet, basename="case")
    router.register("categories", views.CategoryViewSet, basename="category")
    router.register("response-templates", views.ResponseTemplateViewSet, basename="response-template")
