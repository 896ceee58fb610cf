"""Building and unit leads (楼栋长, 单元长) and volunteers, their neighbour check-ins, and volunteer activities.

A `Volunteer` is a resident holding a light role on a place: a building or a unit (a lead) or a micro-grid (a
volunteer, an in-service Party member registered with the community). Their account is a light one: no grid
membership, so no grid scope at all; what they may see is decided by `places.py` from these rows only (their
building's notices, names and room numbers). `grid` is where the row lives for staff scope: the building's
general grid, the unit's micro-grid or the volunteer's micro-grid.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridcase.core.models import TimeStamped
from gridcase.core.querysets import ScopedQuerySet
from gridcase.grids import tree


class VolunteerRole(models.TextChoices):
    BUILDING_LEAD = "building_lead", _("building lead")
    UNIT_LEAD = "unit_lead", _("unit lead")
    VOLUNTEER = "volunteer", _("volunteer")
    PARTY_MEMBER = "party_member", _("in-service Party member")


LEAD_ROLES = (VolunteerRole.BUILDING_LEAD, VolunteerRole.UNIT_LEAD)


class Volunteer(TimeStamped):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_roles")
    resident = models.ForeignKey("grids.Resident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("resident"))
    role = models.CharField(_("role"), max_length=16, choices=VolunteerRole.choices)
    building = models.ForeignKey("grids.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("building"))
    unit = models.ForeignKey("grids.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit"))
    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead or volunteer")
        verbose_name_plural = _("leads and volunteers")
        constraints = [models.UniqueConstraint(fields=["user", "role", "building", "unit", "grid"],
                                               name="volunteer_role_once", nulls_distinct=False)]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")

    def clean(self):
        from gridcase.grids.choices import Level

        if self.role == VolunteerRole.BUILDING_LEAD:
            if self.building_id is None:
                raise ValidationError({"building": _("A building lead needs a building.")})
            self.unit = None
            self.grid_id = self.building.grid_id
        elif self.role == VolunteerRole.UNIT_LEAD:
            if self.unit_id is None:
                raise ValidationError({"unit": _("A unit lead needs a unit.")})
            self.building_id = self.unit.building_id
            self.grid_id = self.unit.micro_grid_id
        elif self.role in (VolunteerRole.VOLUNTEER, VolunteerRole.PARTY_MEMBER):
            self.building, self.unit = None, None
            if self.grid_id is None or self.grid.level != Level.MICRO_GRID:
                raise ValidationError({"grid": _("A volunteer serves a micro-grid.")})


class Wellbeing(models.TextChoices):
    GOOD = "good", _("good")
    ATTENTION = "attention", _("needs attention")
    URGENT = "urgent", _("urgent")


class CheckIn(models.Model):
    """A lead's look-in on an elderly neighbour (邻里守望), confirmed by the resident's micro-grid worker."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="check_ins")
    resident = models.ForeignKey("grids.Resident", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="+")
    client_uuid = models.UUIDField(unique=True)
    wellbeing = models.CharField(max_length=10, choices=Wellbeing.choices)
    note = models.CharField(max_length=500, blank=True)
    checked_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["grid", "confirmed_at"], name="checkin_grid_idx")]

    def __str__(self):
        return f"{self.resident_id} {self.checked_at:%Y-%m-%d}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")


class Activity(TimeStamped):
    """A volunteer activity (义诊, a clean-up): sign-up, attendance, service hours."""

    grid = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"), default=0, help_text=_("0: no limit"))
    hours = models.DecimalField(_("service hours"), max_digits=5, decimal_places=1, default=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("volunteer activity")
        verbose_name_plural = _("volunteer activities")

    def __str__(self):
        return self.title

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "grid__")

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The activity must end after it starts.")})
        if self.hours is not None and not (0 < self.hours <= 24):
            raise ValidationError({"hours": _("Between 0 and 24 hours.")})


class SignUp(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="sign_ups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="sign_ups")
    signed_at = models.DateTimeField(auto_now_add=True)
    attended = models.BooleanField(null=True)
    hours = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "volunteer"], name="signup_once"),
                       models.CheckConstraint(condition=Q(hours__isnull=True) | Q(hours__gte=0),
                                              name="signup_hours_positive")]

    def __str__(self):
        return f"{self.activity_id}:{self.volunteer_id}"
