from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import auth
from .grids import views as grid_views

router = DefaultRouter(trailing_slash=True)
router.register("grids", grid_views.GridViewSet, basename="grid")
router.register("tags", grid_views.TagViewSet, basename="tag")
router.register("buildings", grid_views.BuildingViewSet, basename="building")
router.register("units", grid_views.UnitViewSet, basename="unit")
router.register("households", grid_views.HouseholdViewSet, basename="household")
router.register("residents", grid_views.ResidentViewSet, basename="resident")
router.register("departments", grid_views.DepartmentViewSet, basename="department")
router.register("memberships", grid_views.MembershipViewSet, basename="membership")
router.register("users", grid_views.UserViewSet, basename="user")

# Domain apps add their routes in api/routes.py so this file stays short.
from . import routes  # noqa: E402

routes.register(router)

urlpatterns = [
    path("auth/csrf/", auth.CsrfView.as_view(), name="auth-csrf"),
    path("auth/login/", auth.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", auth.LogoutView.as_view(), name="auth-logout"),
    path("auth/token/refresh/", auth.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("me/", auth.MeView.as_view(), name="me"),
    *routes.urlpatterns,
    path("", include(router.urls)),
]
