"""Routes of Open311 GeoReport v2, included at /open311/v2/ by gridcase/urls.py (outside /api/v1/: the spec
fixes its own paths and formats)."""

from django.urls import path, re_path

from . import open311_views as v

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^services" + FMT, v.services, name="open311-services"),
    re_path(r"^services/(?P<code>[^/]+)" + FMT, v.service_definition, name="open311-service"),
    re_path(r"^requests" + FMT, v.requests, name="open311-requests"),
    re_path(r"^requests/(?P<request_id>[^/]+)" + FMT, v.request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token_id>[^/]+)" + FMT, v.token, name="open311-token"),
    path("<path:rest>", v.unknown, {"fmt": "json"}, name="open311-unknown"),
]
