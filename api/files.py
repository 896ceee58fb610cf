"""Uploaded files over HTTP: only to a logged-in caller whose scope holds the file's case or visit.

`GET /api/v1/files/attachments/{id}/` (a case photo), `…/attachments/{id}/thumbnail/`, and
`GET /api/v1/files/visits/{id}/photo/`, `GET /api/v1/files/patrol-entries/{id}/photo/`. Session or token; no credentials answer 401/403 JSON, a file
outside the caller's scope (or missing) answers 404 like any other object. The bytes are sent by
`gridcase.core.files.send` (nginx X-Accel-Redirect in production), never cached (`private, no-store`).
The web app's `<img>` tags load these URLs on the same origin, so the session cookie goes with them.
"""

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from gridcase.cases.models import Attachment, Case
from gridcase.core import files
from gridcase.core.errors import NotFound
from gridcase.visits.models import PatrolEntry, Visit


class JSONErrors(BaseContentNegotiation):
    """An `<img>` asks for `image/*`; errors still answer in the API's JSON shape instead of 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# 401/403/404 are the API's JSON errors (a file outside the caller's scope is 404 like any object).
IMAGE_RESPONSES = {(200, media): OpenApiTypes.BINARY for media in ("image/jpeg", "image/png", "image/webp")}


class FileView(APIView):
    content_negotiation_class = JSONErrors
    http_method_names = ["get", "head", "options"]


class AttachmentFileView(FileView):
    variant = "file"

    @extend_schema(responses=IMAGE_RESPONSES, operation_id="files_attachment")
    def get(self, request, pk):
        att = Attachment.objects.filter(pk=pk).only("id", "case_id", "file", "thumbnail", "content_type").first()
        if att is None or not Case.objects.restrict(request.user).filter(pk=att.case_id).exists():
            raise NotFound()
        if self.variant == "thumbnail":
            return files.send(att.thumbnail, "image/jpeg")
        return files.send(att.file, att.content_type or files.content_type_of(att.file.name))


class AttachmentThumbnailView(AttachmentFileView):
    variant = "thumbnail"

    @extend_schema(responses=IMAGE_RESPONSES, operation_id="files_attachment_thumbnail")
    def get(self, request, pk):
        return super().get(request, pk)


class VisitPhotoView(FileView):
    @extend_schema(responses=IMAGE_RESPONSES, operation_id="files_visit_photo")
    def get(self, request, pk):
        visit = Visit.objects.restrict(request.user).filter(pk=pk).only("id", "photo").first()
        if visit is None or not visit.photo:
            raise NotFound()
        return files.send(visit.photo, files.content_type_of(visit.photo.name))


class PatrolPhotoView(FileView):
    @extend_schema(responses=IMAGE_RESPONSES, operation_id="files_patrol_photo")
    def get(self, request, pk):
        entry = PatrolEntry.objects.restrict(request.user).filter(pk=pk).only("id", "photo").first()
        if entry is None or not entry.photo:
            raise NotFound()
        return files.send(entry.photo, files.content_type_of(entry.photo.name))


urlpatterns = [
    path("files/attachments/<int:pk>/", AttachmentFileView.as_view(), name="file-attachment"),
    path("files/attachments/<int:pk>/thumbnail/", AttachmentThumbnailView.as_view(), name="file-attachment-thumbnail"),
    path("files/visits/<int:pk>/photo/", VisitPhotoView.as_view(), name="file-visit-photo"),
    path("files/patrol-entries/<int:pk>/photo/", PatrolPhotoView.as_view(), name="file-patrol-photo"),
]


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


def attachment_url(att, request=None, thumbnail=False) -> str | None:
    """Where a case photo (or its thumbnail) is read; None when there is no such file."""
    if not (att.thumbnail if thumbnail else att.file):
        return None
    name = "file-attachment-thumbnail" if thumbnail else "file-attachment"
    return _absolute(request, reverse(name, args=[att.pk]))


def visit_photo_url(visit, request=None) -> str | None:
    if not visit.photo:
        return None
    return _absolute(request, reverse("file-visit-photo", args=[visit.pk]))


def patrol_photo_url(entry, request=None) -> str | None:
    if not entry.photo:
        return None
    return _absolute(request, reverse("file-patrol-photo", args=[entry.pk]))
