"""Points (积分): an append-only ledger of entries, residents' credit balances, and the points shop (信用超市).

Rules that write entries: `rules.py` (declared once, `award()`); hooks on cases, visits and campaign tasks:
`signals.py`; deductions found by sweeps: `sweeps.py`; rankings: `ranking.py`; redemptions: `shop.py`.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridcase.core.models import TimeStamped
from gridcase.core.querysets import ScopedQuerySet
from gridcase.grids import tree


class PointEntry(models.Model):
    """One entry: who (a worker's account, or a resident), when, why (rule), how many, and the source object.
    Exactly once per (rule, source, person): the unique constraints decide, so a replayed sync adds nothing.
    Never edited or deleted: a correction is a new entry (`corrects`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="point_entries")
    resident = models.ForeignKey("grids.Resident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="point_entries")
    rule = models.CharField(_("rule"), max_length=40)
    points = models.IntegerField(_("points"))
    source_type = models.CharField(max_length=30)
    source_id = models.BigIntegerField(null=True, blank=True)
    source_key = models.CharField(max_length=120)  # what makes the entry unique besides rule and person
    # Where it counts (rankings per grid level): the source's grid.
    grid = models.ForeignKey("grids.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    month = models.DateField(editable=False)  # first day of the local (Asia/Shanghai) month of `at`
    note = models.CharField(_("note"), max_length=200, blank=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("point entry")
        verbose_name_plural = _("point entries")
        constraints = [
            models.UniqueConstraint(fields=["rule", "source_key", "user"], condition=Q(user__isnull=False),
                                    name="point_entry_once_user"),
            models.UniqueConstraint(fields=["rule", "source_key", "resident"], condition=Q(resident__isnull=False),
                                    name="point_entry_once_resident"),
            models.CheckConstraint(condition=Q(user__isnull=False, resident__isnull=True)
                                   | Q(user__isnull=True, resident__isnull=False), name="point_entry_one_holder"),
        ]
        indexes = [models.Index(fields=["month", "grid"], name="point_month_grid_idx"),
                   models.Index(fields=["user", "month"], name="point_user_month_idx"),
                   models.Index(fields=["resident", "id"], name="point_resident_idx")]

    def __str__(self):
        return f"{self.rule} {self.points:+d} → {self.user_id or self.resident_id}"

    @classmethod
    def scope_q(cls, scope):
        # Entries where they count (the grids held), and the caller's own entries.
        return tree.subtree_q(scope.spans, "grid__") | Q(user_id=scope.user_id)

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.get("force_insert"):
            raise ValidationError(_("Point entries are append-only: write a correction."), code="append_only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Point entries are append-only: write a correction."), code="append_only")


class RuleOverride(TimeStamped):
    """A community's own points for a rule (0 switches it off there)."""

    community = models.ForeignKey("grids.Grid", on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=40)
    points = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "rule"], name="point_override_once")]


def new_credit_code() -> str:
    return secrets.token_urlsafe(9)


class ResidentCredit(models.Model):
    """A resident's credit account (居民信用积分): the balance of their entries, never negative, and the code the
    desk scans (and the resident's own page opens with)."""

    resident = models.OneToOneField("grids.Resident", on_delete=models.CASCADE, related_name="credit")
    balance = models.IntegerField(default=0)
    code = models.CharField(max_length=20, unique=True, default=new_credit_code, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="credit_never_negative")]

    def __str__(self):
        return f"{self.resident_id}: {self.balance}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "resident__grid__")


class Reward(TimeStamped):
    """A reward of a community's points shop: price in points, stock."""

    community = models.ForeignKey("grids.Grid", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("community"))
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    price = models.PositiveIntegerField(_("price (points)"))
    stock = models.IntegerField(_("stock"), default=0)
    active = models.BooleanField(_("on offer"), default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        constraints = [models.CheckConstraint(condition=Q(stock__gte=0), name="reward_stock_never_negative"),
                       models.CheckConstraint(condition=Q(price__gt=0), name="reward_price_positive")]

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "community__") | tree.covering_q(scope.spans, "community__")

    def clean(self):
        from gridcase.grids.choices import Level

        if self.community_id and self.community.level != Level.COMMUNITY:
            raise ValidationError({"community": _("Rewards belong to a community.")}, code="invalid_grid_level")
        if self.stock is not None and self.stock < 0:
            raise ValidationError({"stock": _("Stock cannot be negative.")}, code="invalid")


class Redemption(models.Model):
    """One reward handed over at the community desk: the reward's stock and the resident's balance went down
    in the same transaction (shop.redeem). Once per `client_key` (a double click or a resent request)."""

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    resident = models.ForeignKey("grids.Resident", on_delete=models.PROTECT, related_name="redemptions")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    points = models.PositiveIntegerField()
    client_key = models.CharField(max_length=64, unique=True)
    entry = models.OneToOneField(PointEntry, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")

    def __str__(self):
        return f"{self.reward_id} → {self.resident_id}"

    @classmethod
    def scope_q(cls, scope):
        return tree.subtree_q(scope.spans, "reward__community__")
