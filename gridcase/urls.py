from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import health

from .spa import service_worker, spa_index

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("open311/v2/", include("api.interop.open311_urls")),  # Open311 GeoReport v2 (its own formats)
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script from a URL, not inline, so the CSP needs no exception.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("sw.js", service_worker, name="service-worker"),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("metrics", health.prometheus),
    # Uploads have no public URL: /media/ answers 404; files go out through the scoped views in api/files.py.
    # The single-page app answers every other path (history routing).
    re_path(r"^(?!api/|admin/|static/|media/|open311/|sw\.js$).*$", spa_index, name="spa"),
]

# Under /api/, Django's own error pages answer in the API's JSON error shape (an unknown /api/v1/… path,
# a body refused before any view); elsewhere they stay Django's pages.
handler400 = "api.errors.handler400"
handler403 = "api.errors.handler403"
handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"
