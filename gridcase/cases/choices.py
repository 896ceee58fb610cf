from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    REPORTED = "reported", _("reported")
    ACCEPTED = "accepted", _("accepted")
    ASSIGNED = "assigned", _("assigned")
    IN_PROGRESS = "in_progress", _("in progress")
    RESOLVED = "resolved", _("resolved")
    VERIFIED = "verified", _("verified")
    CLOSED = "closed", _("closed")
    REJECTED = "rejected", _("rejected")
    MERGED = "merged", _("merged")


TERMINAL = {Status.CLOSED, Status.REJECTED, Status.MERGED}
# Statuses in which a case is still being worked on (a grid holds it, SLA timers run).
ACTIVE = {Status.REPORTED, Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.VERIFIED}


class Priority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    URGENT = "urgent", _("urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Source(models.TextChoices):
    PATROL = "patrol", _("patrol")
    VISIT = "visit", _("visit")
    RESIDENT = "resident", _("resident")
    HOTLINE = "hotline_12345", _("12345 hotline")
    DEPARTMENT = "department", _("department")
    API = "api", _("integration")


class CaseScope(models.TextChoices):
    """Where a dispute sits: 门内 / 楼内 / 院内."""

    HOUSEHOLD = "household", _("inside the household")
    BUILDING = "building", _("inside the building")
    COURTYARD = "courtyard", _("courtyard or public area")


class SlaState(models.TextChoices):
    OK = "ok", _("on time")
    YELLOW = "yellow", _("warning")
    RED = "red", _("breached")


class Stage(models.TextChoices):
    ACCEPT = "accept", _("accept")
    HANDLE = "handle", _("handle")
    VERIFY = "verify", _("verify")


# Which SLA stage a status is in ("" = no timer runs).
STAGE_OF_STATUS = {
    Status.REPORTED: Stage.ACCEPT,
    Status.ACCEPTED: Stage.HANDLE,
    Status.ASSIGNED: Stage.HANDLE,
    Status.IN_PROGRESS: Stage.HANDLE,
    Status.RESOLVED: Stage.VERIFY,
    Status.VERIFIED: Stage.VERIFY,
}
DEADLINE_FIELD = {Stage.ACCEPT: "accept_by", Stage.HANDLE: "handle_by", Stage.VERIFY: "verify_by"}


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY = "basically", _("basically satisfied")
    DISSATISFIED = "dissatisfied", _("dissatisfied")


class RatingSource(models.TextChoices):
    """Ratings are residents': given by the resident (tracking code) or told to staff on a call-back (回访)."""

    RESIDENT = "resident", _("by the resident")
    CALLBACK = "callback", _("call-back")


class AttachmentKind(models.TextChoices):
    BEFORE = "before", _("before handling")
    AFTER = "after", _("after handling")
    OTHER = "other", _("other")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("pending")
    APPROVED = "approved", _("approved")
    REFUSED = "refused", _("refused")


class HopKind(models.TextChoices):
    GRID = "grid", _("grid")
    DEPARTMENT = "department", _("department")


class HotspotKind(models.TextChoices):
    """How a hotspot (未诉先办) was found: the same category again and again in one place, or rising."""

    BUILDING = "building", _("same building")
    MICRO_GRID = "micro_grid", _("same micro-grid")
    NEARBY = "nearby", _("nearby")
    RISING = "rising", _("rising week over week")


class HotspotStatus(models.TextChoices):
    OPEN = "open", _("open")
    HANDLED = "handled", _("handled (preventive case opened)")
    DISMISSED = "dismissed", _("dismissed (not worth a case)")
