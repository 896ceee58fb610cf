"""Campaigns (专项排查): a target set under a grid × a checklist → one task per target, routed to its worker.

Rules: `launching.py` (the set-based launch), `answers.py` (a task answered once, a problem opens a case),
`progress.py` (done / not yet / problem found by grid), `reminders.py`, `export.py`.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import ValidationFailed
from gridcase.core.models import TimeStamped
from gridcase.core.querysets import ScopedQuerySet
from gridcase.grids import tree

from . import checklist as checklists


class Target(models.TextChoices):
    BUILDING = "building", _("every building")
    HOUSEHOLD = "household", _("every household")
    RESIDENT = "resident", _("every resident with the given tags")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    LAUNCHING = "launching", _("launching")
    RUNNING = "running", _("running")
    FAILED = "failed", _("launch failed")
    CLOSED = "closed", _("closed")


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("not yet")
    DONE = "done", _("done")
    PROBLEM = "problem", _("problem found")


class Campaign(TimeStamped):
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("under grid"))
    target = models.CharField(_("target"), max_length=12, choices=Target.choices)
    tags = models.ManyToManyField("grids.Tag", blank=True, related_name="+", verbose_name=_("resident tags"))
    checklist = models.JSONField(_("checklist"), default=list)
    # The case category of a problem found (a question may name its own).
    category = models.ForeignKey("cases.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("case category"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("owner"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False)
    status = models.CharField(max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT,
                              editable=False)
    # Launch progress, written by the background job after each batch.
    total_tasks = models.PositiveIntegerField(default=0, editable=False)
    tasks_created = models.PositiveIntegerField(default=0, editable=False)
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                    editable=False)
    launch_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    launch_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    launch_finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    launch_error = models.CharField(max_length=300, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                              name="campaign_period_order")]

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        # The launcher's side sees campaigns under the grids they hold; a worker below sees the campaigns over them.
        return tree.subtree_q(scope.spans, "grid__") | tree.covering_q(scope.spans, "grid__")

    def clean(self):
        if self.checklist is not None:
            try:
                self.checklist = checklists.validate(self.checklist)
            except ValidationFailed as exc:
                raise ValidationError({"checklist": [str(exc.message)]}, code="invalid_checklist")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The period ends before it starts.")}, code="invalid_period")

    @property
    def finished(self) -> bool:
        return self.status == CampaignStatus.CLOSED or (
            self.status == CampaignStatus.RUNNING and self.ends_on < timezone.localdate())


def task_photo_path(instance, filename):
    from gridcase.core.files import random_name

    ext = (filename.rsplit(".", 1)[-1] if "." in filename else "jpg").lower()[:5]
    return f"campaigns/{timezone.now():%Y/%m}/{random_name(ext)}"


class CampaignTask(models.Model):
    """One target of a campaign, for one worker. Answered once (per `client_uuid`); never edited afterwards."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks", db_constraint=False,
                                 db_index=False)
    # The micro-grid (or general grid for a building without units) where the target is: scope and progress.
    # Rows are written by the set-based launch (300,000 at a time) from rows that exist: no database foreign-key
    # checks (a deferred trigger event per row and column) and no single-column indexes (the composite ones serve
    # the reads); Django still protects and cascades.
    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="+", db_constraint=False,
                             db_index=False)
    target_id = models.BigIntegerField()  # the building, household or resident: one task per target
    building = models.ForeignKey("grids.Building", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False, db_index=False)
    unit = models.ForeignKey("grids.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             db_constraint=False, db_index=False)
    household = models.ForeignKey("grids.Household", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", db_constraint=False, db_index=False)
    resident = models.ForeignKey("grids.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False, db_index=False)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="campaign_tasks", db_constraint=False, db_index=False)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    answers = models.JSONField(default=dict, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", db_index=False, db_constraint=False)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    content_hash = models.CharField(max_length=64, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False, db_constraint=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign task")
        verbose_name_plural = _("campaign tasks")
        constraints = [models.UniqueConstraint(fields=["campaign", "target_id"], name="campaign_task_once")]
        indexes = [models.Index(fields=["campaign", "grid", "status"], name="campaign_task_grid_idx"),
                   models.Index(fields=["worker", "status"], name="campaign_task_worker_idx")]

    def __str__(self):
        return f"{self.campaign_id}/{self.target_id} {self.status}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")


class TaskPhoto(models.Model):
    task = models.ForeignKey(CampaignTask, on_delete=models.CASCADE, related_name="photos")
    key = models.CharField(max_length=40)
    file = models.ImageField(upload_to=task_photo_path)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "key"], name="campaign_photo_once")]

    def __str__(self):
        return f"{self.task_id}/{self.key}"


