from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gridcase.core.querysets import ScopedQuerySet


class Job(models.Model):
    """Work too long for a request (a large export, a monthly report), run by a Celery worker.

    Created by a service with its `kind` and `params` (never taken from a request as such), claimed by a worker
    with a compare-and-set, its progress written as `done` of `total`; the result is a file in private storage
    (served only to the owner through the jobs API), kept `JOB_RESULT_DAYS` days.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=40)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    # Under a random name (gridcase.core.files.random_name); read only through GET /api/v1/jobs/{id}/download/.
    result = models.FileField(upload_to="jobs/", blank=True, max_length=200)
    filename = models.CharField(max_length=200, blank=True)  # the name the download is saved under
    content_type = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [models.Index(fields=["owner", "-id"], name="job_owner_idx"),
                   models.Index(fields=["status", "created_at"], name="job_status_idx")]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"

    @classmethod
    def scope_q(cls, scope):
        # A job's result may hold personal data read with its owner's rights: only the owner reads it.
        return models.Q(owner_id=scope.user_id)
