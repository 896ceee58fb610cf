"""Deliberation (议事, 红色议事厅): a topic → its consultations → a decision with follow-up actions.

Rows only; the rules (who may do what, in which status, what closes a topic) live in `rules.py` and
`services.py`. Every row is seen through its topic's grid (`Topic.scope_q`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.querysets import ScopedQuerySet
from gridcase.grids import tree
from gridcase.grids.models import Building, Grid, Resident, Unit


class TopicStatus(models.TextChoices):
    OPEN = "open", _("raised")
    DELIBERATING = "deliberating", _("deliberating")
    DECIDED = "decided", _("decided")
    FOLLOWED_THROUGH = "followed_through", _("followed through")
    CLOSED = "closed", _("closed")


class TopicOrigin(models.TextChoices):
    CASE = "case", _("from a case")
    PROPOSAL = "proposal", _("resident's proposal")
    STAFF = "staff", _("raised by staff")


class TopicLevel(models.TextChoices):
    COMMUNITY = "community", _("community")
    GRID = "grid", _("grid")
    BUILDING = "building", _("building")


class DecisionMethod(models.TextChoices):
    VOTE = "vote", _("vote")
    CONSENSUS = "consensus", _("consensus")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    CLOSED = "closed", _("held and closed")


class PlaceKind(models.TextChoices):
    HALL = "hall", _("deliberation hall")
    BUILDING_DOOR = "building_door", _("building door")
    HOME = "home", _("a resident's home")
    OTHER = "other", _("other")


class AttendeeKind(models.TextChoices):
    RESIDENT = "resident", _("resident")
    STAFF = "staff", _("staff")
    GUEST = "guest", _("guest")


class Stance(models.TextChoices):
    FOR = "for", _("for")
    AGAINST = "against", _("against")
    NEUTRAL = "neutral", _("neutral")
    SUGGESTION = "suggestion", _("suggestion")


def topic_scope_q(scope, prefix=""):
    """A topic is seen by whoever holds its grid (or above), and at building level also by the workers of the
    micro-grids that hold one of the building's units."""
    units = Unit.objects.filter(tree.subtree_q(scope.spans, "micro_grid__")).values("building_id")
    return tree.subtree_q(scope.spans, f"{prefix}grid__") | Q(**{f"{prefix}building_id__in": units})


class Topic(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    origin = models.CharField(_("origin"), max_length=20, choices=TopicOrigin.choices, default=TopicOrigin.STAFF)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="topics",
                             verbose_name=_("case it came from"))
    proposer_name = models.CharField(_("proposed by"), max_length=60, blank=True)
    level = models.CharField(_("level"), max_length=20, choices=TopicLevel.choices)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="topics", verbose_name=_("grid"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="topics",
                                 verbose_name=_("building"))
    residents_scope = models.CharField(_("residents concerned"), max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=TopicStatus.choices, default=TopicStatus.OPEN, db_index=True)
    decision = models.TextField(_("decision"), blank=True)
    decision_method = models.CharField(max_length=20, choices=DecisionMethod.choices, blank=True)
    decided_in = models.ForeignKey("Consultation", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    followed_through_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_note = models.TextField(blank=True)
    notice_id = models.IntegerField(null=True, blank=True, help_text="the notice the decision was published as")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  related_name="raised_topics")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("deliberation topic")

    def __str__(self):
        return self.title

    @classmethod
    def scope_q(cls, scope):
        return topic_scope_q(scope)


class Consultation(models.Model):
    """A meeting on a topic (议事会): time and place, invitees and who signed in, agenda, positions, options,
    votes or a consensus record. The API calls them meetings."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="consultations")
    starts_at = models.DateTimeField(_("time"))
    place_kind = models.CharField(_("kind of place"), max_length=20, choices=PlaceKind.choices, default=PlaceKind.HALL)
    place = models.CharField(_("place"), max_length=200)
    agenda = models.TextField(_("agenda"), blank=True)
    status = models.CharField(max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    method = models.CharField(max_length=20, choices=DecisionMethod.choices, blank=True)
    consensus = models.TextField(_("consensus record"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = ScopedQuerySet.as_manager()

    def __str__(self):
        return self.place

    class Meta:
        ordering = ["-id"]

    @classmethod
    def scope_q(cls, scope):
        # Staff invited to a meeting (a micro-grid worker signing people in at the door) see it too.
        invited = Attendee.objects.filter(user_id=scope.user_id).values("consultation_id")
        return topic_scope_q(scope, "topic__") | Q(pk__in=invited)


class Attendee(models.Model):
    """Invited and/or attending: a resident, a staff member, or a walk-in guest by name. `signed_in_at` is when
    they signed in on the worker's phone (possibly offline: the phone's time, sent later with `sign_in_key`)."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="attendees")
    kind = models.CharField(max_length=20, choices=AttendeeKind.choices)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    name = models.CharField(max_length=60)
    place = models.CharField(max_length=120, blank=True, help_text="building, unit and room of a resident")
    invited = models.BooleanField(default=False)
    signed_in_at = models.DateTimeField(null=True, blank=True)
    signed_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    sign_in_key = models.CharField(max_length=64, blank=True)

    objects = ScopedQuerySet.as_manager()

    def __str__(self):
        return self.name

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "resident"], condition=Q(resident__isnull=False),
                                    name="deliberation_attendee_once_per_resident"),
            models.UniqueConstraint(fields=["consultation", "user"], condition=Q(user__isnull=False),
                                    name="deliberation_attendee_once_per_user"),
            models.UniqueConstraint(fields=["consultation", "sign_in_key"], condition=~Q(sign_in_key=""),
                                    name="deliberation_sign_in_once_per_key"),
        ]

    @classmethod
    def scope_q(cls, scope):
        return topic_scope_q(scope, "consultation__topic__")


class Position(models.Model):
    """A position recorded at the meeting (who said what)."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="positions")
    attendee = models.ForeignKey(Attendee, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    speaker = models.CharField(max_length=60)
    stance = models.CharField(max_length=20, choices=Stance.choices, default=Stance.SUGGESTION)
    text = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.speaker

    class Meta:
        ordering = ["id"]


class Option(models.Model):
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200)

    def __str__(self):
        return self.label

    class Meta:
        ordering = ["id"]


class Vote(models.Model):
    """One vote per signed-in attendee per meeting."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="votes")
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.attendee_id} → {self.option_id}"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consultation", "attendee"],
                                               name="deliberation_one_vote_per_attendee")]


class TopicAction(models.Model):
    """A follow-up action of the decision; `case` is the case it became (created through the case workflow)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="topic_action")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.title

    class Meta:
        ordering = ["id"]
