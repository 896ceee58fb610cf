"""Every route under /api/v1/.

The foundation's own paths (sign-in, `me`, scoped files, operator status) are listed here; each domain is a
package `api/<domain>/` whose `urls.py` has `urlpatterns` (plain views, maybe none) and `register(router)`
(its viewsets, maybe none). A new domain is one name in DOMAINS. Plain paths come before the router's.
"""

from importlib import import_module

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import auth, files, system

DOMAINS = ("grids", "cases", "imports", "notifications", "visits", "stats", "intake", "audit", "interop", "jobs", "deliberation", "notices", "volunteers", "campaigns", "points", "reports")

router = DefaultRouter(trailing_slash=True)
domain_paths: list = []
for name in DOMAINS:
    module = import_module(f"api.{name}.urls")
    module.register(router)
    domain_paths += module.urlpatterns

urlpatterns = [
    path("auth/csrf/", auth.CsrfView.as_view(), name="auth-csrf"),
    path("auth/login/", auth.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", auth.LogoutView.as_view(), name="auth-logout"),
    path("auth/token/refresh/", auth.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("me/", auth.MeView.as_view(), name="me"),
    *domain_paths,
    *files.urlpatterns,
    *system.urlpatterns,
    path("", include(router.urls)),
]
