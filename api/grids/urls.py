"""Routes of the grid tree, places, people and the organisation (accounts, roles, departments)."""

from . import views

urlpatterns: list = []


def register(router):
    router.register("grids", views.GridViewSet, basename="grid")
    router.register("tags", views.TagViewSet, basename="tag")
    router.register("buildings", views.BuildingViewSet, basename="building")
    router.register("units", views.UnitViewSet, basename="unit")
    router.register("households", views.HouseholdViewSet, basename="household")
    router.register("residents", views.ResidentViewSet, basename="resident")
    router.register("departments", views.DepartmentViewSet, basename="department")
    router.register("memberships", views.MembershipViewSet, basename="membership")
    router.register("users", views.UserViewSet, basename="user")
