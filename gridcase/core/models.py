from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import ScopedQuerySet


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditLog(models.Model):
    """Who read or changed what, when. Reads of unmasked personal data land here."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)  # e.g. "reveal", "read_sensitive", "import"
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    fields = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    # The grid the object belongs to (a resident's or case's grid), so a secretary reads her community's entries.
    grid = models.ForeignKey("grids.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["actor", "at"]),
                   models.Index(fields=["grid", "at"], name="auditlog_grid_at_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.object_type}#{self.object_id}"

    @classmethod
    def scope_q(cls, scope):
        # Read by the managers (secretaries, the street, administrators) over the grids where they hold that role.
        from django.utils.module_loading import import_string

        return import_string(AUDIT_SCOPE_Q)(scope)


# Which entries a scope may read (the grid tree decides; a dotted path so core imports no app).
AUDIT_SCOPE_Q = "gridcase.grids.auditlog.scope_q"
