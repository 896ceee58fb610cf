"""`GET /api/v1/jobs/` (mine, newest first), `GET /api/v1/jobs/{id}/` (progress), `GET /api/v1/jobs/{id}/download/`.

A background job (gridcase.jobs: a large export, a monthly report) is read by its owner only — whatever their
roles, administrators included: its file was written with the owner's rights and may hold personal data. Anyone
else gets 404, as for any object outside their area. The download is `private, no-store`.
"""

from urllib.parse import quote

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from gridcase.core import files
from gridcase.core.errors import Conflict, NotFound
from gridcase.jobs.models import Job

from ..files import JSONErrors
from ..filters import check_query_params
from ..pagination import IdCursorPagination


class JobSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="pending, running, done or failed")
    progress = serializers.SerializerMethodField(help_text="done / total between 0 and 1 (null while unknown)")
    download_url = serializers.SerializerMethodField(help_text="where the finished result is downloaded")

    class Meta:
        model = Job
        fields = ["id", "kind", "params", "status", "done", "total", "progress", "filename", "error", "download_url",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_progress(self, job) -> float | None:
        if job.status == Job.Status.DONE:
            return 1.0
        return round(min(job.done / job.total, 1.0), 4) if job.total else None

    def get_download_url(self, job) -> str | None:
        if job.status != Job.Status.DONE or not job.result:
            return None
        return reverse("job-download", kwargs={"pk": job.pk})


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobSerializer
    pagination_class = IdCursorPagination
    permission_classes = [IsAuthenticated]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        # The owner only, not `restrict()`: a global scope (administrators) must not read others' files either.
        return Job.objects.filter(owner_id=self.request.user.pk)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              409: OpenApiResponse(description="not_ready: the job is still running, or failed")})
    @action(detail=True, methods=["get"], content_negotiation_class=JSONErrors, pagination_class=None)
    def download(self, request, pk=None):
        """The finished job's file (XLSX, PDF); 409 `not_ready` while it runs, 404 once expired."""
        check_query_params(request, self)
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise NotFound()
        if job.status != Job.Status.DONE:
            raise Conflict(_not_ready(job), code="not_ready")
        response = files.send(job.result, job.content_type or "application/octet-stream")
        name = job.filename or "download"
        ascii_name = name.encode("ascii", "ignore").decode() or "download"
        response["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                           f"filename*=UTF-8''{quote(name)}")
        return response


def _not_ready(job):
    if job.status == Job.Status.FAILED:
        return _("The job failed: there is nothing to download.")
    return _("The job has not finished yet.")
