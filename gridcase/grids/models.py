"""The grids app's models: the tree (Grid), places (Building, Unit, Household), people (Resident, Tag),
departments and memberships, and the import's jobs and reviews.

About 400 lines in one module on purpose: Django loads an app's models from `models.py`, these refer to one
another, and each class is short. Split it into a `models/` package by area once it grows further.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from gridcase.core import crypto
from gridcase.core.models import TimeStamped
from gridcase.core.querysets import ScopedQuerySet

from . import geo, moves, scoping, tree
from .choices import ALLOWED_PARENTS, DedicatedKind, Gender, Level, ResidentStatus, Role
from .roles import REVIEW_ROLES


def new_qr_token() -> str:
    return secrets.token_urlsafe(12)


class Grid(tree.TreeNode, TimeStamped):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("dedicated kind"), max_length=16, choices=DedicatedKind.choices, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    centroid_lng = models.FloatField(null=True, blank=True)
    qr_token = models.CharField(max_length=32, unique=True, default=new_qr_token, editable=False)
    # The work phone the community chooses to publish on the micro-grid's QR page and poster (never a private one).
    public_phone = models.CharField(_("published work phone"), max_length=20, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        indexes = [models.Index(fields=list(tree.SPAN_FIELDS), name="grid_span_idx"),
                   models.Index(fields=["level"], name="grid_level_idx")]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans)

    def clean(self):
        super().clean()
        parent = self.parent
        allowed = ALLOWED_PARENTS.get(self.level, set())
        parent_level = parent.level if parent else None
        if parent_level not in allowed:
            names = "、".join(str(Level(v).label) if v else str(_("top of the tree")) for v in allowed if True)
            raise ValidationError(
                {"parent": ValidationError(_("A %(level)s must sit under: %(allowed)s.")
                 % {"level": Level(self.level).label if self.level in Level.values else self.level, "allowed": names},
                 code="invalid_parent_level")},
            )
        if parent and self.pk:
            if parent.pk == self.pk or tree.is_inside(parent, Grid.objects.get(pk=self.pk)):
                raise ValidationError({"parent": ValidationError(
                    _("A grid cannot be moved under itself or its own descendants."), code="tree_cycle")})
        if self.level != Level.DEDICATED and self.kind:
            raise ValidationError({"kind": _("Only dedicated grids have a kind.")}, code="invalid")
        if self.pk and self.level_changed_with_children():
            raise ValidationError({"level": _("Change the level of a grid only when it has no sub-grids.")},
                                  code="level_locked")
        moves.check_grid(self)  # 三不破: a micro-grid changes general grid only with its buildings whole
        if self.boundary is not None and (self.pk is None or self.boundary != Grid.objects.filter(
                pk=self.pk).values_list("boundary", flat=True).first()):
            geo.check_grid_boundary(self)  # a valid polygon, not crossing itself nor overlapping a sibling

    def save(self, *args, **kwargs):
        with moves.saving(self):  # the rules again for writers that skip clean(); a micro-grid's buildings follow
            super().save(*args, **kwargs)

    def level_changed_with_children(self) -> bool:
        old = Grid.objects.filter(pk=self.pk).values_list("level", flat=True).first()
        return old is not None and old != self.level and Grid.objects.filter(parent_id=self.pk).exists()


class Tag(models.Model):
    """A key population (重点人群)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(max_length=60, blank=True)

    class Meta:
        verbose_name = _("key-population tag")
        verbose_name_plural = _("key-population tags")
        ordering = ["id"]

    def __str__(self):
        return self.name


class Building(TimeStamped):
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("general grid"))
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        # A building is seen by whoever holds its general grid, or any micro-grid holding one of its units.
        return tree.subtree_q(scope.spans, "grid__") | models.Q(
            pk__in=Unit.objects.filter(tree.subtree_q(scope.spans, "micro_grid__")).values("building_id")
        )

    def clean(self):
        moves.check_building(self)  # a general grid; never split across general grids (grids.moves)

    def save(self, *args, **kwargs):
        with moves.saving(self):
            super().save(*args, **kwargs)


class Unit(TimeStamped):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("building"))
    name = models.CharField(_("name"), max_length=60)
    micro_grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="units", verbose_name=_("micro-grid"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [models.UniqueConstraint(fields=["building", "name"], name="unit_unique_per_building")]

    def __str__(self):
        return f"{self.building.name} {self.name}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "micro_grid__")

    def clean(self):
        # 三不破: a micro-grid never splits a unit (a unit has exactly one micro-grid, by construction)
        # and lies inside the general grid that holds the unit's building (grids.moves).
        moves.check_unit(self)

    def save(self, *args, **kwargs):
        with moves.saving(self):  # a unit moved elsewhere than grids.moves carries its households and residents
            super().save(*args, **kwargs)


class Household(TimeStamped):
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="households", verbose_name=_("unit"))
    room = models.CharField(_("room"), max_length=30)
    # Denormalised from unit.micro_grid so scoping is one join; kept in step by grids.moves.carry_people.
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="households", editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [models.UniqueConstraint(fields=["unit", "room"], name="household_unique_room")]

    def __str__(self):
        return f"{self.unit} {self.room}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")

    def save(self, *args, **kwargs):
        if self.unit_id and not self.grid_id:
            self.grid_id = Unit.objects.filter(pk=self.unit_id).values_list("micro_grid_id", flat=True).first()
        super().save(*args, **kwargs)


class Resident(TimeStamped):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="residents",
                                  verbose_name=_("household"))
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="residents", editable=False)
    # The micro-grid's community and street (its ancestors at those levels), copied so a list within a
    # community or street walks that one value of an index in id order (its own order) however large the city.
    # Stable under the tree's renumbering (ids, not spans); kept true by `grids.moves.follow_people`.
    community = models.ForeignKey(Grid, null=True, on_delete=models.PROTECT, related_name="+", editable=False,
                                  db_index=False)
    street = models.ForeignKey(Grid, null=True, on_delete=models.PROTECT, related_name="+", editable=False,
                               db_index=False)
    name = models.CharField(_("name"), max_length=60)
    name_pinyin = models.CharField(max_length=200, blank=True, editable=False)
    name_initials = models.CharField(max_length=20, blank=True, editable=False, db_index=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, default=Gender.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # Personal data: encrypted; masked copies and keyed hashes serve lists, search and de-duplication.
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_masked = models.CharField(max_length=20, blank=True, editable=False)
    phone_last4 = models.CharField(max_length=4, blank=True, editable=False, db_index=True)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_masked = models.CharField(max_length=24, blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    relation = models.CharField(_("relation to head of household"), max_length=20, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="residents", verbose_name=_("key populations"))
    # `status` says why a resident is not active; `is_active` (what the round and the care plans read) follows it.
    # Changed through grids.residents.change_status (moved out, moved back in, deceased).
    status = models.CharField(_("status"), max_length=12, choices=ResidentStatus.choices,
                              default=ResidentStatus.ACTIVE, editable=False)
    status_since = models.DateField(_("status since"), null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        indexes = [models.Index(fields=["grid", "id"], name="resident_grid_idx"),
                   models.Index(fields=["community", "id"], name="resident_community_idx"),
                   models.Index(fields=["street", "id"], name="resident_street_idx")]

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        return scoping.area_q([(h.grid_id, h.level, h.span) for h in scope.holds])

    @classmethod
    def scope_within_q(cls, scope, span):
        """`scope_q` and `?within=` as one condition: the scope's subtrees cut down to `span`."""
        return scoping.area_q(scoping.nodes_within(scope, span))

    @staticmethod
    def tagged_q(codes, field: str = "id") -> models.Q:
        """`field` (a resident id) names a resident holding any of the tags `codes`: a subquery over the tag
        links, never a join (no DISTINCT, no row per tag). The tags' ids are read first (one small query) so
        PostgreSQL sees them as values: it then walks one tag's links in resident order (index tag, resident)
        or probes them per resident, whichever the subtree's size makes cheaper."""
        ids = list(Tag.objects.filter(code__in=list(codes)).values_list("pk", flat=True))
        links = Resident.tags.through.objects.filter(tag_id__in=ids)
        return models.Q(**{f"{field}__in": links.values("resident_id")})

    # Personal data accessors ------------------------------------------------------------
    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_encrypted)

    @phone.setter
    def phone(self, value: str):
        value = (value or "").strip()
        self.phone_encrypted = crypto.encrypt(value)
        self.phone_masked = crypto.mask_phone(value)
        self.phone_last4 = value[-4:] if len(value) >= 4 else ""

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted)

    @id_number.setter
    def id_number(self, value: str):
        value = (value or "").strip().upper()
        self.id_number_encrypted = crypto.encrypt(value)
        self.id_number_masked = crypto.mask_id_number(value)
        self.id_number_hash = crypto.keyed_hash(value)

    def save(self, *args, **kwargs):
        from .pinyin import full_pinyin, initials

        self.name_pinyin = full_pinyin(self.name)
        self.name_initials = initials(self.name)
        # A writer that only knows `is_active` (admin, older clients): the status follows it.
        if self.is_active and self.status != ResidentStatus.ACTIVE:
            self.status = ResidentStatus.ACTIVE
        elif not self.is_active and self.status == ResidentStatus.ACTIVE:
            self.status = ResidentStatus.MOVED_OUT
        if self.household_id and not self.grid_id:
            self.grid_id = Household.objects.filter(pk=self.household_id).values_list("grid_id", flat=True).first()
        if self.grid_id and self.community_id is None and self.street_id is None:
            self.community_id, self.street_id = moves.ancestry(self.grid_id)
        super().save(*args, **kwargs)


class Department(TimeStamped):
    """A body outside the grid tree that can be whistled (吹哨): police station, urban management, utilities…"""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    # The area it serves (usually a street or district): grid staff there can whistle it.
    area = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="departments",
                             verbose_name=_("area served"))
    phone = models.CharField(_("duty phone"), max_length=40, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["id"]

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        # Departments serving the caller's area (above or below their grids), city-wide ones, and their own.
        return (models.Q(area__isnull=True) | models.Q(pk__in=scope.department_ids)
                | tree.subtree_q(scope.spans, "area__") | tree.covering_q(scope.spans, "area__"))


class Membership(TimeStamped):
    """A user holding a role on a grid; the user's scope is the union of the subtrees they hold."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("grid"))
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    title = models.CharField(_("title"), max_length=60, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid membership")
        verbose_name_plural = _("grid memberships")
        constraints = [models.UniqueConstraint(fields=["user", "grid", "role"], name="membership_unique")]
        indexes = [models.Index(fields=["grid", "role"], name="membership_grid_role_idx")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.grid}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")


class DepartmentMember(TimeStamped):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="department_memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="members")
    is_head = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("department member")
        verbose_name_plural = _("department members")
        constraints = [models.UniqueConstraint(fields=["user", "department"], name="department_member_unique")]

    def __str__(self):
        return f"{self.user} · {self.department}"


class ImportJob(TimeStamped):
    """A bulk import of households and residents (台账) too large to answer synchronously.

    The uploaded file is kept in the row until a worker has processed it (then cleared: it holds
    personal data); progress and the row-by-row report are read from here.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    filename = models.CharField(max_length=200, blank=True)
    file_type = models.CharField(max_length=8)
    content = models.BinaryField(editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    report = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"

    @classmethod
    def scope_q(cls, scope):
        # An import's report names residents: only the person who uploaded it reads it (and superusers).
        return models.Q(user_id=scope.user_id)


class ImportReview(TimeStamped):
    """An imported row held back because its ID number belongs to a resident registered outside the grid
    the file was imported into. The uploader's report says only `needs_review` (it must not tell a worker
    that the person is registered in another community); the street's dispatchers (or administrators)
    decide: merge (the registered resident moves here, with the row's data) or dismiss.

    The row is kept encrypted (it holds phone and ID numbers); name and place are shown to the reviewer.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        MERGED = "merged", _("merged")
        DISMISSED = "dismissed", _("dismissed")

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    job = models.ForeignKey(ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    row = models.PositiveIntegerField(_("row"))
    name = models.CharField(_("name"), max_length=60)
    place = models.CharField(_("place"), max_length=200, blank=True)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_masked = models.CharField(max_length=24, blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    row_encrypted = models.TextField(blank=True, editable=False)  # {"columns": {...}, "cells": [...]}
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name=_("registered resident"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("import review")
        verbose_name_plural = _("import reviews")
        constraints = [models.UniqueConstraint(fields=["grid", "id_number_hash"], condition=models.Q(status="pending"),
                                               name="import_review_one_pending")]
        indexes = [models.Index(fields=["status", "id"], name="import_review_status_idx")]

    def __str__(self):
        return f"{self.name} → {self.grid_id} ({self.status})"

    @classmethod
    def scope_q(cls, scope):
        # For the street: the dispatchers and administrators holding the import's grid or an ancestor.
        return tree.subtree_q([h.span for h in scope.holds if h.role in REVIEW_ROLES], "grid__")

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted)

    @id_number.setter
    def id_number(self, value: str):
        value = (value or "").strip().upper()
        self.id_number_encrypted = crypto.encrypt(value)
        self.id_number_masked = crypto.mask_id_number(value)
        self.id_number_hash = crypto.keyed_hash(value)
