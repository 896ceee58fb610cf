"""Care plans (关爱/走访计划) and visits (走访). Visits are append-only facts; a care plan's due dates
are a projection of those facts and of the cadence rules, recomputed by `services.refresh_plan`."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.models import TimeStamped
from gridcase.core.querysets import ScopedQuerySet
from gridcase.grids import scoping, tree
from gridcase.grids.choices import Level

from .choices import ContactKind, Wellbeing


class CadenceRule(TimeStamped):
    """How often a key population must be contacted, per kind. `community` empty: the city-wide default;
    a community's own rule for the same tag and kind replaces the default there."""

    community = models.ForeignKey("grids.Grid", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="cadence_rules", verbose_name=_("community"))
    tag = models.ForeignKey("grids.Tag", on_delete=models.CASCADE, related_name="cadence_rules",
                            verbose_name=_("key population"))
    kind = models.CharField(_("kind of contact"), max_length=12, choices=ContactKind.choices)
    every_n_days = models.PositiveSmallIntegerField(
        _("every n days"), validators=[MinValueValidator(1)],
        help_text=_("30 means once a calendar month, 90 once a quarter."))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cadence rule")
        verbose_name_plural = _("cadence rules")
        constraints = [
            models.UniqueConstraint(fields=["community", "tag", "kind"], name="cadence_rule_once"),
            models.UniqueConstraint(fields=["tag", "kind"], condition=models.Q(community__isnull=True),
                                    name="cadence_rule_default_once"),
            models.CheckConstraint(condition=models.Q(every_n_days__gt=0), name="cadence_rule_positive"),
        ]

    def __str__(self):
        return f"{self.community or '*'} · {self.tag} · {self.kind} / {self.every_n_days}d"

    @classmethod
    def scope_q(cls, scope):
        # Defaults are readable by everyone; a community's rules by whoever sees the community or holds inside it.
        return (models.Q(community__isnull=True) | tree.subtree_q(scope.spans, "community__")
                | tree.covering_q(scope.spans, "community__"))

    def clean(self):
        if self.community_id and self.community.level != Level.COMMUNITY:
            raise ValidationError({"community": _("Cadence rules are set by a community.")}, code="invalid_grid_level")
        if self.every_n_days is not None and self.every_n_days < 1:
            raise ValidationError({"every_n_days": _("A cadence must be at least one day.")}, code="invalid_cadence")


class CarePlan(TimeStamped):
    """One per key-population resident. Active while the resident holds a key-population tag."""

    resident = models.OneToOneField("grids.Resident", on_delete=models.CASCADE, related_name="care_plan",
                                    verbose_name=_("resident"))
    # The resident's micro-grid, community and street, copied so a list within a street or community walks the
    # plans' own index in id order (no join through the residents). Copied on save; kept true by
    # `grids.moves.follow_people` (the registry's moves, a resident moving household, the import, the seeders).
    grid = models.ForeignKey("grids.Grid", null=True, on_delete=models.PROTECT, related_name="care_plans",
                             editable=False)
    community = models.ForeignKey("grids.Grid", null=True, on_delete=models.PROTECT, related_name="+",
                                  editable=False, db_index=False)
    street = models.ForeignKey("grids.Grid", null=True, on_delete=models.PROTECT, related_name="+", editable=False,
                               db_index=False)
    # Empty: the micro-grid's worker(s) are responsible (looked up at read time, so a new worker inherits).
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="care_plans", verbose_name=_("responsible worker"))
    active = models.BooleanField(_("active"), default=True)
    started_on = models.DateField(_("started on"), default=timezone.localdate)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    # Wellbeing of the latest contact (by the time it happened); attention/urgent raise the cadence.
    wellbeing = models.CharField(_("wellbeing"), max_length=12, choices=Wellbeing.choices, blank=True)
    escalated = models.BooleanField(_("cadence raised"), default=False)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        indexes = [models.Index(fields=["worker"], name="careplan_worker_idx"),
                   # Open plans of a grid, community or street, newest first (the lists' order).
                   models.Index(fields=["grid", "id"], name="careplan_open_grid_idx", condition=models.Q(active=True)),
                   models.Index(fields=["community", "id"], name="careplan_open_community_idx",
                                condition=models.Q(active=True)),
                   models.Index(fields=["street", "id"], name="careplan_open_street_idx",
                                condition=models.Q(active=True))]

    def __str__(self):
        return f"{self.resident_id} care plan"

    @classmethod
    def scope_q(cls, scope):
        return scoping.area_q([(h.grid_id, h.level, h.span) for h in scope.holds])

    @classmethod
    def scope_within_q(cls, scope, span):
        """`scope_q` and `?within=` as one condition: the scope's subtrees cut down to `span`."""
        return scoping.area_q(scoping.nodes_within(scope, span))

    def save(self, *args, **kwargs):
        if self.resident_id and not self.grid_id:
            resident = self.resident
            self.grid_id, self.community_id, self.street_id = resident.grid_id, resident.community_id, resident.street_id
        super().save(*args, **kwargs)


class CarePlanItem(models.Model):
    """The cadence and next due date of one kind of contact in a plan."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("kind of contact"), max_length=12, choices=ContactKind.choices)
    # From the rules (shortest over the resident's tags); null when only an override or escalation applies.
    rule_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # Set by a worker for this resident (PATCH); replaces the rules.
    custom_days = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    # What applies now: escalated (daily phone) > custom > rule. Null: nothing due of this kind.
    every_n_days = models.PositiveSmallIntegerField(null=True, blank=True)
    last_contact_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    # Overdue notices already sent for this due date (worker / grid leader): the job skips them next time.
    worker_notified_for = models.DateField(null=True, blank=True)
    leader_notified_for = models.DateField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("care plan item")
        verbose_name_plural = _("care plan items")
        constraints = [
            models.UniqueConstraint(fields=["care_plan", "kind"], name="careplan_item_once"),
            models.CheckConstraint(condition=models.Q(custom_days__isnull=True) | models.Q(custom_days__gt=0),
                                   name="careplan_item_custom_positive"),
        ]
        # "What is due by day D": only items with a due date matter.
        indexes = [models.Index(fields=["due_on"], name="careplan_item_due_idx",
                                condition=models.Q(due_on__isnull=False))]

    def __str__(self):
        return f"{self.care_plan_id} {self.kind} due {self.due_on}"

    @property
    def base_days(self):
        return self.custom_days or self.rule_days

    @classmethod
    def scope_q(cls, scope):
        return scoping.area_q([(h.grid_id, h.level, h.span) for h in scope.holds], "care_plan__")

    @classmethod
    def scope_within_q(cls, scope, span):
        return scoping.area_q(scoping.nodes_within(scope, span), "care_plan__")


def visit_photo_path(instance, filename):
    # A random name, never the client_uuid (lists show it): see gridcase/core/files.py.
    from gridcase.core.files import random_name

    ext = (filename.rsplit(".", 1)[-1] if "." in filename else "jpg").lower()[:5]
    return f"visits/{timezone.now():%Y/%m}/{random_name(ext)}"


class Visit(models.Model):
    """One logged contact with a resident or household. Append-only: never edited, never deleted."""

    client_uuid = models.UUIDField(_("client uuid"), unique=True, default=uuid.uuid4)
    content_hash = models.CharField(max_length=64, editable=False)
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                related_name="visits", verbose_name=_("visitor"))
    resident = models.ForeignKey("grids.Resident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="visits", verbose_name=_("resident"))
    household = models.ForeignKey("grids.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="visits", verbose_name=_("household"))
    # The resident's (or household's) grid when the visit was logged: scoping and figures by grid.
    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="visits", editable=False)
    kind = models.CharField(_("kind of contact"), max_length=12, choices=ContactKind.choices)
    visited_at = models.DateTimeField(_("visited at"))
    visited_on = models.DateField(editable=False)  # local (Asia/Shanghai) date of visited_at
    wellbeing = models.CharField(_("wellbeing"), max_length=12, choices=Wellbeing.choices)
    findings = models.TextField(_("findings"), blank=True)
    needs = models.JSONField(_("needs"), default=list, blank=True)
    pension_certified = models.BooleanField(_("pension certification done"), default=False)
    photo = models.ImageField(_("photo"), upload_to=visit_photo_path, null=True, blank=True)
    # The case opened from this visit (in the same transaction as the visit).
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="visits",
                             verbose_name=_("case"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            models.Index(fields=["resident", "kind", "visited_on"], name="visit_resident_kind_idx"),
            models.Index(fields=["grid", "visited_on"], name="visit_grid_day_idx"),
            models.Index(fields=["visitor", "id"], name="visit_visitor_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.resident_id or self.household_id} {self.visited_at:%Y-%m-%d}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.get("force_insert"):
            update_fields = set(kwargs.get("update_fields") or ())
            if not update_fields or not update_fields <= {"case", "case_id", "photo"}:
                raise ValidationError(_("Visits are append-only and cannot be changed."), code="append_only")
        if self.visited_at is not None:
            self.visited_on = timezone.localdate(self.visited_at)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Visits are append-only and cannot be deleted."), code="append_only")


class DueRun(models.Model):
    """One run of the due/overdue job for a day: what it found and whom it told (an audit of the job)."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    due_today = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    worker_notices = models.PositiveIntegerField(default=0)
    leader_notices = models.PositiveIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("due-visit run")
        verbose_name_plural = _("due-visit runs")

    def __str__(self):
        return f"{self.day}: {self.due_today} due, {self.overdue} overdue"


def patrol_photo_path(instance, filename):
    from gridcase.core.files import random_name

    ext = (filename.rsplit(".", 1)[-1] if "." in filename else "jpg").lower()[:5]
    return f"patrol/{timezone.now():%Y/%m}/{random_name(ext)}"


class PatrolEntry(models.Model):
    """One line of a worker's patrol log (巡查日志 / 民情日志): where they were on their walk and what they saw.
    Stored once per `client_uuid` (a phone resends after a lost answer). Rules: `gridcase.visits.patrol`."""

    client_uuid = models.UUIDField(_("client uuid"), unique=True, default=uuid.uuid4)
    content_hash = models.CharField(max_length=64, editable=False)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="patrol_entries", verbose_name=_("worker"))
    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="patrol_entries",
                             verbose_name=_("grid"))
    building = models.ForeignKey("grids.Building", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="patrol_entries", verbose_name=_("building"))
    at = models.DateTimeField(_("at"))
    on = models.DateField(editable=False)  # local (Asia/Shanghai) date of `at`: the log is read per worker and day
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    note = models.TextField(_("what was seen"), blank=True)
    photo = models.ImageField(_("photo"), upload_to=patrol_photo_path, null=True, blank=True)
    # The case reported from this observation: `case_key` is the report's client_key, chosen before the report
    # is sent (it may wait in the phone's queue); `case` is filled once a case with that key exists.
    case_key = models.CharField(max_length=64, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="patrol_entries", verbose_name=_("case"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol log entry")
        verbose_name_plural = _("patrol log entries")
        indexes = [
            models.Index(fields=["worker", "on"], name="patrol_worker_day_idx"),
            models.Index(fields=["grid", "on"], name="patrol_grid_day_idx"),
        ]

    def __str__(self):
        return f"{self.worker_id} {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")

    def save(self, *args, **kwargs):
        if self.at is not None:
            self.on = timezone.localdate(self.at)
        super().save(*args, **kwargs)
