"""Resident intake: a case a resident reported by scanning their micro-grid's QR code, and its tracking code."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridcase.cases.models import Case
from gridcase.core import crypto
from gridcase.grids.models import Grid


class IntakeTicket(models.Model):
    """The resident's handle on a case: an unguessable tracking code, and how to reach them (phone encrypted)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="intake_ticket")
    code = models.CharField(_("tracking code"), max_length=16, unique=True)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+", verbose_name=_("micro-grid"))
    client_key = models.CharField(max_length=64)
    reporter_name = models.CharField(_("name"), max_length=60, blank=True)
    contact_phone_encrypted = models.TextField(blank=True, editable=False)
    contact_phone_masked = models.CharField(max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("resident report")
        verbose_name_plural = _("resident reports")
        constraints = [models.UniqueConstraint(fields=["grid", "client_key"], name="intake_client_key_once")]

    def __str__(self):
        return self.code

    @property
    def contact_phone(self) -> str:
        return crypto.decrypt(self.contact_phone_encrypted)

    @contact_phone.setter
    def contact_phone(self, value: str):
        value = (value or "").strip()
        self.contact_phone_encrypted = crypto.encrypt(value)
        self.contact_phone_masked = crypto.mask_phone(value)


class RetiredQrToken(models.Model):
    """A micro-grid's QR token that was replaced: old posters then open a readable page naming the grid's new
    poster instead of an error (and can never report again)."""

    token = models.CharField(max_length=32, unique=True)
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    retired_at = models.DateTimeField()

    def __str__(self):
        return self.token


class IntakeFollow(models.Model):
    """已有人反映，点此关注: a resident who found their problem already reported follows that case with a
    tracking code of their own (they see its progress; only the first reporter rates it)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="intake_follows")
    code = models.CharField(_("tracking code"), max_length=16, unique=True)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+")
    client_key = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grid", "client_key"], name="intake_follow_key_once")]

    def __str__(self):
        return self.code
