"""Deliberation operations: raise a topic, hold consultations (sign-in, positions, options, votes), decide,
turn actions into cases through the case workflow, follow through and close. Views and seeders call these.

Every change of a topic or a meeting is a compare-and-set on its `version` (two people at once: one wins, the
other gets 409). Errors are the domain's (`gridcase.core.errors`), with a machine-readable code.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.cases import services as case_services
from gridcase.cases import workflow
from gridcase.cases.choices import Status as CaseStatus
from gridcase.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from gridcase.grids.accounts import display_name
from gridcase.grids.choices import Level
from gridcase.grids.models import Resident
from gridcase.grids.scoping import scope_for

from . import attendance, rules
from .models import (
    Attendee,
    AttendeeKind,
    Consultation,
    DecisionMethod,
    MeetingStatus,
    Option,
    Position,
    Topic,
    TopicAction,
    TopicLevel,
    TopicOrigin,
    TopicStatus,
    Vote,
)

# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=10)


# --- loading and who may ------------------------------------------------------------------------------------

def load_topic(topic_id, actor, *, lock=False) -> Topic:
    qs = Topic.objects.restrict(actor).select_related("grid", "building", "case")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        topic = qs.filter(pk=int(topic_id)).first()
    except (TypeError, ValueError):
        topic = None
    if topic is None:
        raise NotFound()
    return topic


def load_meeting(meeting_id, actor, *, lock=False) -> Consultation:
    qs = Consultation.objects.restrict(actor).select_related("topic", "topic__grid")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        meeting = qs.filter(pk=int(meeting_id)).first()
    except (TypeError, ValueError):
        meeting = None
    if meeting is None:
        raise NotFound()
    return meeting


def is_staff(actor, topic) -> bool:
    scope = scope_for(actor)
    return scope.is_global or bool(scope.roles_at(topic.grid) & rules.STAFF_ROLES)


def require_staff(actor, topic) -> None:
    if not is_staff(actor, topic):
        raise Forbidden(_("Only the grid's staff may do this on a deliberation topic."))


def require_sign_in_role(actor) -> None:
    # The meeting is already one the caller can see (its topic's grid or building is theirs).
    if not scope_for(actor).has_role(*rules.SIGN_IN_ROLES):
        raise Forbidden()


def _version(value) -> int:
    if value in (None, ""):
        raise ValidationFailed(_("Send the version you are acting on."), fields={"version": [_("This field is required.")]})
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationFailed(fields={"version": [_("Enter a whole number.")]})
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed(fields={"version": [_("Enter a whole number.")]})


def _cas(model, obj, version: int, **changes):
    """Compare-and-set `obj` (a Topic or Consultation) from `version`; 409 when someone changed it first."""
    now = timezone.now()
    extra = {"updated_at": now} if model is Topic else {}
    done = model.objects.filter(pk=obj.pk, version=version).update(version=version + 1, **extra, **changes)
    if done != 1:
        raise Conflict()
    for key, value in {**changes, **extra}.items():
        setattr(obj, key, value)
    obj.version = version + 1
    return obj


def _move(topic, move: str, version: int, **changes):
    if not rules.can(move, topic.status):
        raise InvalidTransition(_("This is not possible while the topic is %(status)s.")
                                % {"status": TopicStatus(topic.status).label})
    target = rules.target(move)
    if target != topic.status:
        changes["status"] = target
    return _cas(Topic, topic, version, **changes)


# --- topics ---------------------------------------------------------------------------------------------------

def check_place(data: dict) -> dict:
    """The level names its grid: a community, a general (or dedicated) grid, or a building of a general grid."""
    level, grid, building = data.get("level"), data.get("grid"), data.get("building")
    if level == TopicLevel.BUILDING:
        if building is None:
            raise ValidationFailed(_("A building-level topic names its building."),
                                   fields={"building": [_("This field is required.")]})
        data["grid"] = building.grid
    elif grid is None:
        raise ValidationFailed(fields={"grid": [_("This field is required.")]})
    elif level == TopicLevel.COMMUNITY and grid.level != Level.COMMUNITY:
        raise ValidationFailed(_("A community-level topic is raised at a community."),
                               fields={"grid": [_("Choose a community.")]})
    elif level == TopicLevel.GRID and grid.level not in (Level.GRID, Level.DEDICATED, Level.MICRO_GRID):
        raise ValidationFailed(_("A grid-level topic is raised at a grid."), fields={"grid": [_("Choose a grid.")]})
    else:
        data["building"] = None
    return data


def raise_topic(actor, data: dict) -> Topic:
    """A topic from a case (its grid's staff), a resident's proposal (the proposer's name) or staff."""
    data = check_place(dict(data))
    origin = data.get("origin") or (TopicOrigin.CASE if data.get("case") else TopicOrigin.STAFF)
    if origin == TopicOrigin.CASE and data.get("case") is None:
        raise ValidationFailed(_("Name the case the topic comes from."), fields={"case": [_("This field is required.")]})
    if origin == TopicOrigin.PROPOSAL and not (data.get("proposer_name") or "").strip():
        raise ValidationFailed(_("Name the resident who proposed it."),
                               fields={"proposer_name": [_("This field is required.")]})
    topic = Topic(title=data["title"].strip(), description=(data.get("description") or "").strip(), origin=origin,
                  case=data.get("case") if origin == TopicOrigin.CASE else None,
                  proposer_name=(data.get("proposer_name") or "").strip(), level=data["level"], grid=data["grid"],
                  building=data.get("building"), residents_scope=(data.get("residents_scope") or "").strip(),
                  raised_by=actor)
    require_staff(actor, topic)
    topic.save()
    return topic


EDITABLE = ("title", "description", "residents_scope")


def update_topic(actor, topic_id, data: dict, version) -> Topic:
    with transaction.atomic():
        topic = load_topic(topic_id, actor, lock=True)
        require_staff(actor, topic)
        v = _version(version)
        if v != topic.version:
            raise Conflict()
        if topic.status in rules.FINISHED:
            raise InvalidTransition(_("A finished topic cannot be edited."))
        changes = {k: (data[k] or "").strip() for k in EDITABLE if k in data}
        if "title" in changes and not changes["title"]:
            raise ValidationFailed(fields={"title": [_("This field may not be blank.")]})
        return _cas(Topic, topic, v, **changes)


def decide(actor, topic_id, data: dict) -> Topic:
    """The decision, made at a consultation of the topic that was held (closed), by vote or consensus."""
    with transaction.atomic():
        topic = load_topic(topic_id, actor, lock=True)
        require_staff(actor, topic)
        v = _version(data.get("version"))
        if v != topic.version:
            raise Conflict()
        text = (data.get("decision") or "").strip()
        if not text:
            raise ValidationFailed(_("Write the decision."), fields={"decision": [_("This field is required.")]})
        meetings = topic.consultations.all()
        if data.get("consultation") is not None:
            meeting = meetings.filter(pk=data["consultation"]).first()
        else:
            meeting = meetings.filter(status=MeetingStatus.CLOSED).order_by("-closed_at", "-id").first()
        if meeting is None or meeting.status != MeetingStatus.CLOSED:
            raise ValidationFailed(_("A decision is taken at a consultation of this topic that has been held "
                                     "(closed)."), code="no_consultation_held",
                                   fields={"consultation": [_("Close the consultation first.")]})
        return _move(topic, "decide", v, decision=text, decision_method=meeting.method or DecisionMethod.CONSENSUS,
                     decided_in_id=meeting.pk, decided_at=timezone.now(), decided_by_id=actor.pk)


def close_topic(actor, topic_id, data: dict) -> Topic:
    with transaction.atomic():
        topic = load_topic(topic_id, actor, lock=True)
        require_staff(actor, topic)
        v = _version(data.get("version"))
        if v != topic.version:
            raise Conflict()
        note = (data.get("note") or "").strip()
        open_actions = open_action_count(topic)
        why = rules.close_refusal(topic.status, open_actions, note)
        if why == "status":
            raise InvalidTransition(_("This topic is already closed."))
        if why == "open_actions":
            raise InvalidTransition(_("The topic stays open until the cases of its actions are closed."),
                                    code="open_actions")
        if why == "note":
            raise ValidationFailed(_("Say why the topic is closed without a decision."),
                                   fields={"note": [_("This field is required.")]})
        return _move(topic, "close", v, close_note=note, closed_at=timezone.now())


def open_action_count(topic) -> int:
    return topic.actions.exclude(case__status=CaseStatus.CLOSED).count()


# --- actions become cases -----------------------------------------------------------------------------------------

def add_action(actor, topic_id, data: dict) -> TopicAction:
    """A follow-up action of the decision, filed as a case through the case workflow (its create, then accept and
    assign when an assignee is named), linked both ways. Idempotent on `client_key` per topic."""
    with transaction.atomic():
        topic = load_topic(topic_id, actor, lock=True)
        require_staff(actor, topic)
        if not rules.can("add_action", topic.status):
            raise InvalidTransition(_("Actions follow a decision: decide the topic first."), code="not_decided")
        title = (data.get("title") or "").strip()
        if not title:
            raise ValidationFailed(fields={"title": [_("This field is required.")]})
        key = (data.get("client_key") or "").strip()[:40]
        case_key = f"topic{topic.pk}-{key}" if key else ""
        if case_key:
            existing = topic.actions.filter(case__client_key=case_key).select_related("case").first()
            if existing is not None:
                if existing.title != title:
                    raise Conflict(_("This client key was already used for a different action."))
                return existing
        action = TopicAction.objects.create(topic=topic, title=title,
                                            description=(data.get("description") or "").strip(), created_by=actor)
        description = "\n".join(filter(None, [action.description, str(_("Follow-up action of the deliberation "
                                                                          "topic “%(title)s”.") % {"title": topic.title})]))
        created = case_services.create_case(actor, {
            "category": data["category"], "grid": data.get("grid") or topic.grid, "title": title,
            "description": description, "building": topic.building, "client_key": case_key or f"topic{topic.pk}-a{action.pk}",
            "channel": "deliberation",
        })
        action.case = created.case
        action.save(update_fields=["case"])
        _cas(Topic, topic, topic.version)  # the topic's version moves with its actions
    assignee = data.get("assignee")
    if assignee is not None:
        case = created.case
        case = workflow.apply(case.pk, "accept", actor, {}, version=case.version)
        workflow.apply(case.pk, "assign", actor, {"assignee": assignee.pk}, version=case.version)
    return action


def on_case_event(event) -> None:
    """The case workflow wrote an event: a closed case may finish its topic's follow-through, a reopened one
    takes a followed-through topic back to decided. Runs in the case's own transaction; the topic row is locked
    first, so two actions' cases closed at once still finish the topic exactly once."""
    closing = event.to_status == CaseStatus.CLOSED
    reopening = event.from_status == CaseStatus.CLOSED and event.to_status and event.to_status != CaseStatus.CLOSED
    if not (closing or reopening):
        return
    topic_id = TopicAction.objects.filter(case_id=event.case_id).values_list("topic_id", flat=True).first()
    if topic_id is None:
        return
    topic = Topic.objects.select_for_update().get(pk=topic_id)
    if closing and topic.status == TopicStatus.DECIDED:
        statuses = list(topic.actions.values_list("case__status", flat=True))
        if rules.followed_through([s or "" for s in statuses]):
            _move(topic, "follow_through", topic.version, followed_through_at=event.at or timezone.now())
    elif reopening and topic.status == TopicStatus.FOLLOWED_THROUGH:
        _move(topic, "resume", topic.version, followed_through_at=None)


# --- consultations ----------------------------------------------------------------------------------------------

def _resident_place(resident) -> str:
    h = resident.household
    return f"{h.unit.building.name}{h.unit.name}{h.room}" if h else ""


def schedule(actor, data: dict) -> Consultation:
    """A consultation of the topic at a time and place, with its invitees; the topic is now being deliberated."""
    with transaction.atomic():
        topic = load_topic(data["topic"].pk, actor, lock=True)
        require_staff(actor, topic)
        if not rules.can("schedule", topic.status):
            raise InvalidTransition(_("Consultations are held before the decision."), code="invalid_transition")
        meeting = Consultation.objects.create(topic=topic, starts_at=data["starts_at"],
                                              place_kind=data.get("place_kind") or "hall", place=data["place"].strip(),
                                              agenda=(data.get("agenda") or "").strip(), created_by=actor)
        _move(topic, "schedule", topic.version)
        _invite(meeting, data.get("residents") or [], data.get("users") or [])
    return meeting


def _invite(meeting, residents, users) -> int:
    have_r = set(meeting.attendees.filter(resident__isnull=False).values_list("resident_id", flat=True))
    have_u = set(meeting.attendees.filter(user__isnull=False).values_list("user_id", flat=True))
    rows = [Attendee(consultation=meeting, kind=AttendeeKind.RESIDENT, resident=r, name=r.name,
                     place=_resident_place(r), invited=True) for r in residents if r.pk not in have_r]
    rows += [Attendee(consultation=meeting, kind=AttendeeKind.STAFF, user=u, name=display_name(u), invited=True)
             for u in users if u.pk not in have_u]
    Attendee.objects.bulk_create(rows)
    return len(rows)


def invite(actor, meeting_id, residents, users) -> int:
    with transaction.atomic():
        meeting = load_meeting(meeting_id, actor, lock=True)
        require_staff(actor, meeting.topic)
        _require_open(meeting)
        return _invite(meeting, residents, users)


def _require_open(meeting, code="meeting_closed"):
    if not rules.meeting_open(meeting.status):
        raise InvalidTransition(_("The consultation is closed: nothing more can be recorded at it."), code=code)


@dataclass
class SignedIn:
    attendee: Attendee
    created: bool


def sign_in(actor, meeting_id, data: dict, *, now=None) -> SignedIn:
    """Sign an invitee (by attendee id, resident or user) or a walk-in (by name) in, on the worker's phone.

    Idempotent on `sign_in_key` (the phone's key, resent from the offline queue): a resend answers the first
    sign-in, the same key for someone else is a 409. Someone already signed in stays signed in once (the first
    time kept). A phone that recorded the sign-in while the meeting was open (`signed_at` before it closed) may
    send it after the close; anything later is refused (409 `meeting_closed`)."""
    now = now or timezone.now()
    key = (data.get("sign_in_key") or "").strip()
    signed_at = data.get("signed_at") or now
    if signed_at > now + CLOCK_SKEW:
        raise ValidationFailed(fields={"signed_at": [_("This time is in the future.")]})
    with transaction.atomic():
        meeting = load_meeting(meeting_id, actor, lock=True)
        require_sign_in_role(actor)
        if key:
            existing = meeting.attendees.filter(sign_in_key=key).first()
            if existing is not None:
                if not _same_person(existing, data):
                    raise Conflict(_("This sign-in key was already used for someone else."))
                return SignedIn(existing, False)
        if not rules.meeting_open(meeting.status) and not (meeting.closed_at and signed_at <= meeting.closed_at):
            raise InvalidTransition(_("The consultation is closed: sign-ins are no longer taken."),
                                    code="meeting_closed")
        if signed_at < meeting.starts_at - timedelta(hours=12):
            raise ValidationFailed(fields={"signed_at": [_("This is long before the consultation began.")]})
        attendee = _find_attendee(meeting, data)
        if attendee is not None and attendee.signed_in_at is not None:
            return SignedIn(attendee, False)
        if attendee is None:
            attendee = _walk_in(meeting, data)
        attendee.signed_in_at, attendee.signed_in_by, attendee.sign_in_key = signed_at, actor, key
        try:
            with transaction.atomic():
                attendee.save()
        except IntegrityError:
            raise Conflict(_("Someone else signed this person in at the same moment. Reload."))
        attendance.credit(attendee, meeting)
    return SignedIn(attendee, True)


def _same_person(att, data) -> bool:
    if data.get("attendee") is not None:
        return att.pk == data["attendee"]
    if data.get("resident") is not None:
        return att.resident_id == data["resident"].pk
    if data.get("user") is not None:
        return att.user_id == data["user"].pk
    return att.resident_id is None and att.user_id is None and att.name == (data.get("name") or "").strip()


def _find_attendee(meeting, data):
    qs = meeting.attendees.select_for_update()
    if data.get("attendee") is not None:
        found = qs.filter(pk=data["attendee"]).first()
        if found is None:
            raise ValidationFailed(fields={"attendee": [_("Not among this consultation's attendees.")]})
        return found
    if data.get("resident") is not None:
        return qs.filter(resident=data["resident"]).first()
    if data.get("user") is not None:
        return qs.filter(user=data["user"]).first()
    return None


def _walk_in(meeting, data) -> Attendee:
    resident, user = data.get("resident"), data.get("user")
    if resident is not None:
        return Attendee(consultation=meeting, kind=AttendeeKind.RESIDENT, resident=resident, name=resident.name,
                        place=_resident_place(resident))
    if user is not None:
        return Attendee(consultation=meeting, kind=AttendeeKind.STAFF, user=user, name=display_name(user))
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationFailed(_("Name who signs in (an invitee, a resident, or a walk-in's name)."),
                               fields={"name": [_("This field is required.")]})
    return Attendee(consultation=meeting, kind=AttendeeKind.GUEST, name=name[:60])


def add_position(actor, meeting_id, data: dict) -> Position:
    with transaction.atomic():
        meeting = load_meeting(meeting_id, actor, lock=True)
        require_sign_in_role(actor)
        _require_open(meeting)
        attendee = None
        if data.get("attendee") is not None:
            attendee = meeting.attendees.filter(pk=data["attendee"]).first()
            if attendee is None:
                raise ValidationFailed(fields={"attendee": [_("Not among this consultation's attendees.")]})
        speaker = (data.get("speaker") or "").strip() or (attendee.name if attendee else "")
        text = (data.get("text") or "").strip()
        if not speaker or not text:
            raise ValidationFailed(fields={k: [_("This field is required.")] for k, v in
                                           (("speaker", speaker), ("text", text)) if not v})
        return Position.objects.create(consultation=meeting, attendee=attendee, speaker=speaker[:60],
                                       stance=data.get("stance") or "suggestion", text=text, created_by=actor)


def add_option(actor, meeting_id, label: str) -> Option:
    with transaction.atomic():
        meeting = load_meeting(meeting_id, actor, lock=True)
        require_staff(actor, meeting.topic)
        _require_open(meeting)
        label = (label or "").strip()
        if not label:
            raise ValidationFailed(fields={"label": [_("This field is required.")]})
        if meeting.options.filter(label=label).exists():
            raise Conflict(_("This option is already on the list."), code="duplicate_option")
        return Option.objects.create(consultation=meeting, label=label[:200])


@dataclass
class Voted:
    vote: Vote
    created: bool


def vote(actor, meeting_id, attendee_id, option_id) -> Voted:
    """One vote per signed-in attendee while the consultation is open; the same vote resent answers the first,
    a different one is refused (409 `already_voted`): votes are not changed after they are cast."""
    with transaction.atomic():
        meeting = load_meeting(meeting_id, actor, lock=True)
        require_sign_in_role(actor)
        _require_open(meeting)
        attendee = meeting.attendees.filter(pk=attendee_id).first()
        if attendee is None:
            raise ValidationFailed(fields={"attendee": [_("Not among this consultation's attendees.")]})
        if attendee.signed_in_at is None:
            raise ValidationFailed(_("Only attendees who signed in can vote."), code="not_signed_in",
                                   fields={"attendee": [_("Not signed in.")]})
        option = meeting.options.filter(pk=option_id).first()
        if option is None:
            raise ValidationFailed(fields={"option": [_("Not an option of this consultation.")]})
        existing = Vote.objects.filter(consultation=meeting, attendee=attendee).first()
        if existing is not None:
            if existing.option_id == option.pk:
                return Voted(existing, False)
            raise Conflict(_("This attendee has already voted."), code="already_voted")
        return Voted(Vote.objects.create(consultation=meeting, option=option, attendee=attendee, recorded_by=actor),
                     True)


def close_meeting(actor, meeting_id, data: dict) -> Consultation:
    """The consultation was held: its record (vote or consensus) is fixed from now on."""
    with transaction.atomic():
        meeting = load_meeting(meeting_id, actor, lock=True)
        require_staff(actor, meeting.topic)
        v = _version(data.get("version"))
        if v != meeting.version:
            raise Conflict()
        _require_open(meeting, code="invalid_transition")
        method = data.get("method") or ""
        consensus = (data.get("consensus") or "").strip()
        if method not in DecisionMethod.values:
            raise ValidationFailed(fields={"method": [_("Choose vote or consensus.")]})
        if method == DecisionMethod.CONSENSUS and not consensus:
            raise ValidationFailed(_("Write down the consensus reached."),
                                   fields={"consensus": [_("This field is required.")]})
        if method == DecisionMethod.VOTE and not meeting.votes.exists():
            raise ValidationFailed(_("No vote has been recorded at this consultation."), code="no_votes",
                                   fields={"method": [_("No votes.")]})
        if not meeting.attendees.filter(signed_in_at__isnull=False).exists():
            raise ValidationFailed(_("Nobody signed in at this consultation."), code="no_attendance")
        return _cas(Consultation, meeting, v, status=MeetingStatus.CLOSED, method=method, consensus=consensus,
                    closed_at=timezone.now())


def tally(meeting) -> list[dict]:
    counts = dict(meeting.votes.values_list("option_id").annotate(n=Count("id")))
    return [{"id": o.pk, "label": o.label, "votes": counts.get(o.pk, 0)} for o in meeting.options.all()]


# --- the case side and the dashboard -------------------------------------------------------------------------------

def stats(actor, within=None) -> dict:
    """Topics raised, decided and followed through per grid (one query): each row's grid and three counts."""
    qs = Topic.objects.restrict(actor)
    if within is not None:
        from gridcase.grids import scoping, tree

        qs = scoping.within(qs, tree.span(within))
    decided = Q(decided_at__isnull=False)
    rows = list(qs.values("grid_id", "grid__name", "grid__level").annotate(
        raised=Count("id"), decided=Count("id", filter=decided),
        followed_through=Count("id", filter=Q(status=TopicStatus.FOLLOWED_THROUGH)),
        open=Count("id", filter=Q(status__in=rules.OPEN_STATES))).order_by("grid__name", "grid_id"))
    out = [{"grid": r["grid_id"], "grid_name": r["grid__name"], "grid_level": r["grid__level"],
            "raised": r["raised"], "decided": r["decided"], "followed_through": r["followed_through"],
            "open": r["open"]} for r in rows]
    total = {k: sum(r[k] for r in out) for k in ("raised", "decided", "followed_through", "open")}
    return {"grids": out, "total": total}


def publish_decision(actor, topic_id, data: dict) -> Topic:
    """Publish the decision as a notice (居务公开) to the topic's grid, through the notices app's one way in
    (`gridcase.notices.publishing.publish_notice`: its publisher check applies). Once per topic."""
    try:
        from gridcase.notices.publishing import publish_notice
    except ImportError:  # a deployment without the notices app
        raise InvalidTransition(_("Notices are not available."), code="notices_unavailable")
    with transaction.atomic():
        topic = load_topic(topic_id, actor, lock=True)
        if not topic.decided_at:
            raise InvalidTransition(_("Only a decision can be published: decide the topic first."),
                                    code="not_decided")
        if topic.notice_id:
            raise Conflict(_("The decision has already been published."), code="already_published")
        actions = [a.title for a in topic.actions.all()]
        lines = [str(_("Decision: %(text)s") % {"text": topic.decision})]
        lines += [f"{i}. {t}" for i, t in enumerate(actions, 1)]
        body = "\n".join(lines)
        notice = publish_notice(actor, grid=topic.grid, title=str(_("Deliberation decision: %(title)s")
                                                                   % {"title": topic.title})[:200],
                                body=body, audience=data.get("audience") or "residents",
                                client_key=f"topic-{topic.pk}-decision")
        return _cas(Topic, topic, topic.version, notice_id=notice.pk)


def update_meeting(actor, meeting_id, data: dict) -> Consultation:
    """Move a scheduled consultation's time or place, or change its agenda (not once it was held)."""
    with transaction.atomic():
        meeting = load_meeting(meeting_id, actor, lock=True)
        require_staff(actor, meeting.topic)
        v = _version(data.get("version"))
        if v != meeting.version:
            raise Conflict()
        _require_open(meeting, code="invalid_transition")
        changes = {k: data[k] for k in ("starts_at", "place_kind") if data.get(k)}
        changes.update({k: (data[k] or "").strip() for k in ("place", "agenda") if k in data})
        if "place" in changes and not changes["place"]:
            raise ValidationFailed(fields={"place": [_("This field may not be blank.")]})
        return _cas(Consultation, meeting, v, **changes)


def invitable_residents(actor, topic_id, q: str = "", limit: int = 200) -> list[dict]:
    """The residents a consultation of the topic may invite: the building's at building level, else those of the
    topic's grid subtree; inside the caller's scope, active, by building, unit and room. Name and place only."""
    from gridcase.grids import scoping, tree

    topic = load_topic(topic_id, actor)
    qs = Resident.objects.restrict(actor).filter(is_active=True)
    if topic.building_id:
        qs = qs.filter(household__unit__building_id=topic.building_id)
    else:
        qs = scoping.within(qs, tree.span(topic.grid))
    if q.strip():
        qs = qs.filter(name__contains=q.strip())
    rows = qs.select_related("household__unit__building").order_by(
        "household__unit__building__name", "household__unit__name", "household__room", "id")[:limit]
    return [{"id": r.pk, "name": r.name, "place": _resident_place(r)} for r in rows]
