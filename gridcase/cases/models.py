"""Cases and everything hanging off them. Models stay thin: rules live in workflow/, rules.py, sla.py, services.py.

Over 400 lines in one module on purpose: Django loads an app's models from `models.py`, and these are one
aggregate (a case, its events, hops, departments, extensions, attachments, categories, policies and the work
calendar), each model short; splitting them into a package would only scatter the foreign keys."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridcase.core.querysets import ScopedQuerySet
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Building, Department, Grid, Household, Resident, Unit
from gridcase.grids.roles import CASE_STAFF, SENSITIVE_ROLES

from .choices import (
    ACTIVE,
    AttachmentKind,
    CaseScope,
    ExtensionState,
    HopKind,
    HotspotKind,
    HotspotStatus,
    Priority,
    Rating,
    RatingSource,
    SlaState,
    Source,
    Stage,
    Status,
)


class Category(models.Model):
    """Case category (事件分类): a small tree with defaults and an optional skip rule."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent"))
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    default_priority = models.CharField(_("default priority"), max_length=10, choices=Priority.choices,
                                        default=Priority.NORMAL)
    sensitive = models.BooleanField(_("sensitive"), default=False,
                                    help_text=_("Visible only to the roles that handle it; reads are audited."))
    # Skip rule (越级): cases of this category at or above `skip_min_priority` enter at `entry_level`
    # instead of the grid where they happened, and the listed departments are whistled at once.
    entry_level = models.CharField(_("entry level"), max_length=16, choices=Level.choices, blank=True)
    skip_min_priority = models.CharField(_("skip from priority"), max_length=10, choices=Priority.choices,
                                         blank=True)
    copy_departments = models.ManyToManyField(Department, blank=True, related_name="+",
                                              verbose_name=_("departments copied"))
    department_kinds = models.CharField(_("department kinds copied"), max_length=120, blank=True,
                                        help_text=_("Comma-separated department kinds whistled by the skip rule."))
    copy_levels = models.CharField(
        _("grid levels copied"), max_length=80, blank=True,
        help_text=_("Comma-separated grid levels (e.g. micro_grid,community) told of a case that skips above them."))
    sort = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        from . import categories

        if self.parent_id is not None and (self.parent_id == self.pk
                                           or categories.creates_cycle(self.pk, self.parent_id)):
            raise ValidationError({"parent": _("A category cannot sit under itself.")}, code="tree_cycle")


class SlaPolicy(models.Model):
    """Time limits for one stage. The most specific row wins (category, then priority, then owning level);
    blank fields match anything."""

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    owner_level = models.CharField(max_length=16, choices=Level.choices, blank=True)
    stage = models.CharField(max_length=10, choices=Stage.choices)
    yellow_hours = models.DecimalField(max_digits=7, decimal_places=2)
    red_hours = models.DecimalField(max_digits=7, decimal_places=2)
    working_hours = models.BooleanField(_("counted in working hours"), default=True)
    auto_escalate = models.BooleanField(_("escalate automatically at red"), default=False)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [models.UniqueConstraint(fields=["category", "priority", "owner_level", "stage"],
                                                name="sla_policy_unique", nulls_distinct=False)]

    def __str__(self):
        return f"{self.category or '*'} {self.priority or '*'} {self.owner_level or '*'} {self.stage}"

    def clean(self):
        if self.yellow_hours is not None and self.red_hours is not None:
            if not (0 < self.yellow_hours <= self.red_hours):
                raise ValidationError({"yellow_hours": _("The warning limit must be positive and not after the breach limit.")})


class CaseNumberSequence(models.Model):
    """Last number handed out per community and year; incremented atomically (see services.next_number)."""

    community = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "year"], name="case_number_seq_unique")]

    def __str__(self):
        return f"{self.community_id}/{self.year}: {self.last}"


class CaseQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(status__in=list(ACTIVE))


# A case lies where it happened (grid), with whoever owns it (owner_grid) and in its dedicated grid (school,
# hospital, market …): it is inside a subtree when any of the three is.
AREA_FIELDS = ("grid_id", "owner_grid_id", "dedicated_grid_id")


def area_q(spans, leaves=None) -> Q:
    """Cases whose grid, owner grid or dedicated grid lies in one of the subtrees `spans` (a tree range each).

    `leaves` ({span: grid id}, the caller's held grids that have no children, e.g. a micro-grid worker's): such a
    grid is named by its id (`grid_id = 5 OR owner_grid_id = 5 …`), which PostgreSQL estimates from its
    statistics and reads through the three grid indexes; from a subquery it cannot tell how few cases a
    micro-grid holds and walks every case by id until a page is full (a walk that grows with the city)."""
    if not spans:
        return Q(pk__in=[])
    leaves = leaves or {}
    named = [leaves[s] for s in spans if s in leaves]
    ranged = [s for s in spans if s not in leaves]
    q = Q()
    for field in AREA_FIELDS:
        if named:
            q |= Q(**{f"{field}__in": named})
        if ranged:
            q |= tree.in_subtrees_q(Grid, ranged, field)
    return q


def _leaves(scope) -> dict:
    """{span: grid id} of the grids `scope` holds that have no children (their span holds one node)."""
    return {h.span: h.grid_id for h in scope.holds if h.span.size == 1} if scope is not None else {}


class Case(models.Model):
    number = models.CharField(_("number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category"))
    scope = models.CharField(_("scope"), max_length=12, choices=CaseScope.choices, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    sensitive = models.BooleanField(default=False, editable=False)  # copied from the category

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="cases", verbose_name=_("grid"))
    owner_grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="owned_cases",
                                   verbose_name=_("owner grid"))
    dedicated_grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="dedicated_cases", verbose_name=_("dedicated grid"))
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)

    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.PATROL)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="reported_cases")
    reporter_name = models.CharField(_("reporter name"), max_length=60, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_cases")
    departments = models.ManyToManyField(Department, through="CaseDepartment", related_name="cases", blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates")

    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REPORTED)
    version = models.PositiveIntegerField(default=1)
    client_key = models.CharField(max_length=64, blank=True)

    # SLA: a deadline per stage, and the current stage's warning / breach instants for the sweep.
    accept_by = models.DateTimeField(null=True, blank=True)
    handle_by = models.DateTimeField(null=True, blank=True)
    verify_by = models.DateTimeField(null=True, blank=True)
    sla_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    sla_yellow_at = models.DateTimeField(null=True, blank=True)
    sla_red_at = models.DateTimeField(null=True, blank=True)
    sla_state = models.CharField(max_length=6, choices=SlaState.choices, default=SlaState.OK)

    rating = models.CharField(_("rating"), max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(max_length=500, blank=True)
    # Who gave the rating: the resident through the tracking code, or staff recording a call-back (回访).
    rating_source = models.CharField(_("rated through"), max_length=10, choices=RatingSource.choices, blank=True)
    callback_at = models.DateTimeField(_("call-back time"), null=True, blank=True)

    # Per-case timestamps so statistics are exact, not estimated.
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"))
    first_response_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    escalation_count = models.PositiveSmallIntegerField(default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(fields=["reporter", "client_key"], name="case_client_key_once",
                                    condition=~Q(client_key="")),
        ]
        indexes = [
            models.Index(fields=["grid", "-id"], name="case_grid_idx"),
            models.Index(fields=["owner_grid", "-id"], name="case_owner_grid_idx"),
            models.Index(fields=["dedicated_grid"], name="case_dedicated_idx", condition=Q(dedicated_grid__isnull=False)),
            models.Index(fields=["assignee", "status"], name="case_assignee_idx"),
            models.Index(fields=["status", "-id"], name="case_status_idx"),
            models.Index(fields=["sla_yellow_at"], name="case_sla_yellow_due",
                         condition=Q(sla_state="ok") & ~Q(sla_stage="")),
            models.Index(fields=["sla_red_at"], name="case_sla_red_due",
                         condition=Q(sla_state__in=["ok", "yellow"]) & ~Q(sla_stage="")),
            # The dashboards' rollup refresh reads the cases changed since its last run (stats.rollup.touched_days).
            models.Index(fields=["updated_at"], name="case_updated_idx"),
            # The cases still being handled, by grid: hold times' hops still held in a street read that street's few
            # open cases (stats.holds), not every open case of the city.
            models.Index(fields=["grid"], name="case_open_grid_idx", condition=Q(status__in=sorted(ACTIVE))),
            # A dashboard figure's drill-down (the cases created in a period where they happened in a subtree,
            # stats.queries.area_q): the subtree's grids each read their period, not every case of the period.
            models.Index(fields=["grid", "created_at"], name="case_grid_created_idx"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def location(self):
        if self.lat is None or self.lng is None:
            return None
        return {"lat": self.lat, "lng": self.lng}

    @classmethod
    def scope_q(cls, scope):
        """Cases whose grid, owner grid or dedicated grid lies in the caller's subtrees; sensitive ones only
        for the roles that handle them; plus the caller's own (assigned, reported) and their departments'."""
        return cls._scope_q(scope, None)

    @classmethod
    def scope_within_q(cls, scope, span, area=None):
        """`scope_q` and `?within=<grid>` (the case lies in the subtree `span`) as one condition: inside a
        subtree one of the caller's holds covers, the area half of the scope is already met. `scope` None:
        not restricted, the subtree alone. `area`: the condition naming the subtree's cases when it is not
        "grid, owner grid or dedicated grid inside it" (a dashboard figure's drill-down: where they happened)."""
        if area is None:
            area = area_q([span], _leaves(scope))
        if scope is None:
            return area
        return area & cls._scope_q(scope, span)

    @classmethod
    def _scope_q(cls, scope, within):
        spans = scope.spans
        sensitive = [h.span for h in scope.holds if h.role in SENSITIVE_ROLES]
        # Inside `within`, when one of the caller's holds covers it, their area condition is met already.
        area_met = within is not None and tree.covers(spans, within)
        if all(tree.covers(sensitive, s) for s in spans):  # every hold sees sensitive cases too
            if area_met:
                return Q()
            q = area_q(spans, _leaves(scope))
        else:
            q = Q(sensitive=False) if area_met else Q(sensitive=False) & area_q(spans, _leaves(scope))
            if sensitive:
                q |= Q(sensitive=True) & area_q(sensitive, _leaves(scope))
        # Staff holding the owner grid itself (e.g. the street once a case is escalated there) handle it.
        owners = [h.grid_id for h in scope.holds if h.role in CASE_STAFF]
        if owners:
            q |= Q(sensitive=True, owner_grid_id__in=owners)
        if scope.user_id:
            q |= Q(assignee_id=scope.user_id) | Q(reporter_id=scope.user_id)
        if scope.department_ids:
            q |= Q(pk__in=CaseDepartment.objects.filter(department_id__in=scope.department_ids).values("case_id"))
        return q


class CaseDepartment(models.Model):
    """A department whistled (吹哨) into a case, and how it answered (报到, reply) and was scored (应哨评价)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="case_departments")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="case_links")
    whistled_at = models.DateTimeField()
    whistled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    whistled_from = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    report_by = models.DateTimeField(_("report in by"))
    note = models.TextField(blank=True)
    reported_in_at = models.DateTimeField(null=True, blank=True)
    reported_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    reply = models.TextField(blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    score_comment = models.CharField(max_length=500, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        verbose_name = _("whistled department")
        verbose_name_plural = _("whistled departments")
        constraints = [models.UniqueConstraint(fields=["case", "department"], name="case_department_once"),
                       models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                                              name="case_department_score_1_5")]
        indexes = [models.Index(fields=["department", "case"], name="case_department_dept_idx")]

    def __str__(self):
        return f"{self.case_id} → {self.department_id}"


class CaseEvent(models.Model):
    """Append-only timeline: the current state of a case is the fold of its events (state.replay)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=24)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    version = models.PositiveIntegerField()  # the case's version after this event
    comment = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["id"]
        indexes = [models.Index(fields=["case", "id"], name="case_event_case_idx")]

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.get("force_insert"):
            raise ValueError("case events are append-only")
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.case_id} {self.action} v{self.version}"


class CaseHop(models.Model):
    """Hop ledger: who (a grid or a department) held the case, from when to when, and how it ended."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hops")
    kind = models.CharField(max_length=10, choices=HopKind.choices)
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grid_level = models.CharField(max_length=16, blank=True)
    start_action = models.CharField(max_length=24)
    end_action = models.CharField(max_length=24, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["case", "id"], name="case_hop_case_idx"),
                   models.Index(fields=["department", "started_at"], name="case_hop_dept_idx",
                                condition=Q(department__isnull=False))]
        constraints = [models.CheckConstraint(
            condition=(Q(kind="grid", grid__isnull=False, department__isnull=True)
                       | Q(kind="department", department__isnull=False, grid__isnull=True)),
            name="case_hop_holder")]

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.grid_id or self.department_id}"


def attachment_path(instance, filename):
    return f"cases/{instance.case_id}/{filename}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=8, choices=AttachmentKind.choices, default=AttachmentKind.BEFORE)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    thumbnail = models.FileField(upload_to=attachment_path, max_length=200, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The phone's key for this upload (a uuid it made): an upload retried from the offline queue after a lost
    # answer is stored once per case and key, the retry answered with the photo stored the first time.
    client_key = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "client_key"], name="attachment_client_key_once",
                                    condition=Q(client_key__isnull=False)),
        ]

    def __str__(self):
        return f"{self.case_id} {self.original_name}"


class ExtensionRequest(models.Model):
    """延期申请: a handler asks for more time on the current stage; the owning level decides."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    hours = models.DecimalField(max_digits=7, decimal_places=2)
    reason = models.TextField()
    state = models.CharField(max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    old_deadline = models.DateTimeField(null=True, blank=True)
    new_deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case"], condition=Q(state="pending"),
                                                name="extension_one_pending")]

    def __str__(self):
        return f"{self.case_id} +{self.hours}h {self.state}"


class ResponseTemplate(models.Model):
    """Canned replies (常用回复) per category and status."""

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="response_templates")
    status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    title = models.CharField(max_length=80)
    body = models.TextField()
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort", "id"]

    def __str__(self):
        return self.title


class CalendarDay(models.Model):
    """A day that breaks the Monday–Friday rule: a public holiday (放假) or a make-up working day (调休上班).
    Read by workcalendar.py (cached per process); seeded from chinese-calendar, imported from the yearly
    State Council notice (`manage.py calendar`), editable in the admin."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("public holiday (day off)")
        WORKDAY = "workday", _("make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True, help_text=_("e.g. Spring Festival"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self):
        return f"{self.date} {self.kind} {self.name}".strip()

    def clean(self):
        if self.kind == self.Kind.WORKDAY and self.date and self.date.weekday() < 5:
            raise ValidationError({"kind": _("A make-up working day falls on a Saturday or Sunday.")})


class CalendarYear(models.Model):
    """A year whose holidays and make-up working days are all in CalendarDay. Years without a complete row
    count weekends only and are reported by /readyz and the console."""

    class Source(models.TextChoices):
        PACKAGE = "package", _("chinese-calendar package")
        IMPORT = "import", _("imported notice")
        ADMIN = "admin", _("entered by an administrator")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.ADMIN)
    complete = models.BooleanField(_("complete"), default=True,
                                   help_text=_("All of the year's holidays and make-up working days are entered."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self):
        return str(self.year)


class Hotspot(models.Model):
    """未诉先办: a problem that keeps coming back — one category again and again in a building, a micro-grid or a
    small circle, or rising week over week in a general grid. Found and upserted by `hotspots.detect()` (a Celery
    beat job); a secretary may open one preventive case from it (`hotspots.open_preventive_case`), once.

    One row is one episode: `current` while the latest detection still finds it (at most one current row per kind,
    category and `key`); `cases` are every case the episode has counted, `count` those in the latest window."""

    kind = models.CharField(_("kind"), max_length=12, choices=HotspotKind.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="hotspots", verbose_name=_("category"))
    # The most specific grid holding all its cases: who sees it (scope) and where a preventive case is reported.
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="hotspots", verbose_name=_("grid"))
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.SET_NULL, related_name="hotspots")
    key = models.CharField(max_length=64)  # the place it counts: "building:12", "grid:34", "near:5678", …
    window_days = models.PositiveSmallIntegerField(_("window (days)"))
    threshold = models.PositiveSmallIntegerField(_("threshold"))
    count = models.PositiveIntegerField(_("cases in the window"))
    previous_count = models.PositiveIntegerField(null=True, blank=True)  # rising: the week before
    metres = models.PositiveIntegerField(null=True, blank=True)  # nearby: the circle's radius
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    first_seen = models.DateTimeField(_("first case"))
    last_seen = models.DateTimeField(_("latest case"))
    detected_at = models.DateTimeField(_("last detected"))
    created_at = models.DateTimeField(_("found at"))
    current = models.BooleanField(default=True)
    status = models.CharField(_("status"), max_length=10, choices=HotspotStatus.choices, default=HotspotStatus.OPEN)
    status_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    status_at = models.DateTimeField(null=True, blank=True)
    cases = models.ManyToManyField(Case, related_name="hotspots", blank=True)
    preventive_case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="prevented_hotspot", verbose_name=_("preventive case"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hotspot")
        verbose_name_plural = _("hotspots")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "category", "key"], condition=Q(current=True),
                                                name="hotspot_one_current")]
        indexes = [models.Index(fields=["grid", "-id"], name="hotspot_grid_idx")]

    def __str__(self):
        return f"{self.kind} {self.category_id} {self.key} ×{self.count}"

    @classmethod
    def scope_q(cls, scope):
        """Hotspots whose grid lies in the caller's subtrees (their cases are never sensitive)."""
        return tree.subtree_q(scope.spans, "grid__")
