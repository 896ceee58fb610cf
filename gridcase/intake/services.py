"""Resident intake (居民扫码上报): what a resident sees after scanning their micro-grid's QR code, reporting a
problem, tracking it by its code and rating the result.

Everything here is public (no sign-in), so it reveals only what a notice on the stairwell would: the grid's
name and path, the worker's masked name, the case's status in plain words and a timeline without staff names
or internal comments. (Over 400 lines: the resident's whole path — page, report, receipt, tracking, following,
rating — kept in one module so what is public is read in one place; abuse control is guard.py, duplicates
duplicates.py.)
"""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.cases import categories, state, workflow
from gridcase.cases import services as case_services
from gridcase.cases.choices import AttachmentKind, Rating, Status
from gridcase.cases.models import Attachment, Case, CaseEvent, Category
from gridcase.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from gridcase.grids import areas, geo, tree
from gridcase.grids.accounts import display_name
from gridcase.grids.choices import Level, Role
from gridcase.grids.models import Grid, Membership, new_qr_token
from gridcase.grids.roles import FIELD_WORKERS

from . import duplicates, guard
from .models import IntakeFollow, IntakeTicket, RetiredQrToken

# Crockford's base32 without look-alikes (no I, L, O, U): 32^8 ≈ 10^12 codes.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
TITLE_MAX, DESCRIPTION_MAX, NAME_MAX, COMMENT_MAX = 200, 2000, 60, 500
MAX_PHOTOS = 3
FOLLOW_SALT = "gridcase.intake.follow"
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")

STATUS_WORDS = {
    Status.REPORTED: _("Received, waiting for the grid to take it on"),
    Status.ACCEPTED: _("Taken on by the grid"),
    Status.ASSIGNED: _("Handed to a worker"),
    Status.IN_PROGRESS: _("Being handled"),
    Status.RESOLVED: _("Handled, the result is being checked"),
    Status.VERIFIED: _("Result checked, about to be closed"),
    Status.CLOSED: _("Done"),
    Status.REJECTED: _("Not taken on"),
    Status.MERGED: _("Joined with another report of the same problem"),
}
# The only events a resident sees, in plain words; comments and actors are never shown.
PUBLIC_EVENTS = {
    "create": _("Report received"),
    "accept": _("Taken on by the grid"),
    "assign": _("Handed to a worker"),
    "start": _("Work started"),
    "resolve": _("Handled"),
    "verify": _("Result checked"),
    "close": _("Closed"),
    "reopen": _("Reopened for more work"),
    "escalate": _("Passed to a higher level"),
    "auto_escalate": _("Passed to a higher level"),
    "whistle": _("Departments called in"),
    "reply": _("A department replied"),
    "reject": _("Not taken on"),
    "merge": _("Joined with another report of the same problem"),
    "rate": _("Rated by the resident"),
    "callback": _("The grid called back to ask about the result"),
}


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """Codes are read aloud and typed: ignore case, spaces and dashes; O→0, I/L→1 as Crockford does."""
    value = re.sub(r"[\s\-]", "", str(raw or "")).upper()
    return value.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def mask_name(name: str) -> str:
    """王秀英 → 王**: the family name stays, the given name is masked."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


# --- the QR code's grid ----------------------------------------------------------------------------------

def grid_for_token(token: str) -> Grid:
    token = str(token or "")[:32]
    grid = Grid.objects.filter(qr_token=token, level=Level.MICRO_GRID).first()
    if grid is None:
        retired = RetiredQrToken.objects.select_related("grid").filter(token=token).first()
        if retired is not None:
            raise NotFound(_("This QR code has been replaced by a new poster for %(grid)s. Please scan the new "
                             "code in your building, or call your grid worker.") % {"grid": retired.grid.name},
                           code="retired_qr_token")
        raise NotFound(_("This QR code is not known. Ask your grid worker for a new one."), code="unknown_qr_token")
    return grid


def rotate_token(grid, now=None) -> Grid:
    """A new QR token for a micro-grid: posters printed with the old one open a page saying it was replaced."""
    with transaction.atomic():
        grid = Grid.objects.select_for_update().get(pk=grid.pk)
        RetiredQrToken.objects.create(token=grid.qr_token, grid=grid, retired_at=now or timezone.now())
        grid.qr_token = new_qr_token()
        Grid.objects.filter(pk=grid.pk).update(qr_token=grid.qr_token)
    return grid


def public_categories() -> list[dict]:
    """Categories a resident may pick: active and not sensitive, as a two-level tree."""
    rows = (Category.objects.filter(is_active=True, sensitive=False).order_by("sort", "id")
            .only("id", "parent_id", "code", "name", "name_en"))
    nodes, roots = {}, []
    for c, depth in categories.tree_order(rows):
        nodes[c.pk] = {"id": c.pk, "code": c.code, "name": c.name, "name_en": c.name_en, "children": []}
        (roots if depth == 0 else nodes[c.parent_id]["children"]).append(nodes[c.pk])
    return roots


def public_category_ids() -> set[int]:
    return set(Category.objects.filter(is_active=True, sensitive=False).values_list("id", flat=True))


def worker_name(grid) -> str:
    """The masked name of the micro-grid's worker (or, failing one, the general grid's worker)."""
    return worker_and_name(grid)[1]


def worker_and_name(grid) -> tuple:
    """(the worker's membership or None, masked name) of the micro-grid (or, failing one, its general grid)."""
    holders = [grid.pk] + ([grid.parent_id] if grid.parent_id else [])
    rows = list(Membership.objects.filter(grid_id__in=holders, role__in=FIELD_WORKERS)
                .select_related("user").order_by("id"))
    for grid_id, role in ((grid.pk, Role.MICRO_GRID_WORKER), (grid.parent_id, Role.GRID_WORKER)):
        for m in rows:
            if m.grid_id == grid_id and m.role == role:
                return m, mask_name(display_name(m.user))
    return None, ""


def intake_page(grid) -> dict:
    path = tree.ancestor_paths([grid], include_self=True)[grid.pk]
    return {"grid": {"name": grid.name, "code": grid.code, "path": path},
            "worker": {"public_name": worker_name(grid), "phone": grid.public_phone or ""},
            "categories": public_categories(),
            # The page sends this back with the report (the minimum fill time, guard.py).
            "form_token": guard.form_token(), "max_photos": MAX_PHOTOS}


# --- reporting ------------------------------------------------------------------------------------------

@dataclass
class Submitted:
    ticket: IntakeTicket
    created: bool


def _clean(data: dict) -> dict:
    """Check a resident's report; raise ValidationFailed with every field's problem at once."""
    errors: dict = {}
    out: dict = {}

    def text(name, limit, required=False):
        value = data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = [_("Enter text.")]
            return ""
        value = value.strip()
        if required and not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [_("Keep this under %(n)s characters.") % {"n": limit}]
        return value

    out["description"] = text("description", DESCRIPTION_MAX, required=True)
    out["title"] = text("title", TITLE_MAX)
    out["name"] = text("name", NAME_MAX)
    out["client_key"] = text("client_key", 64, required=True)
    phone = text("contact_phone", 20)
    if phone and not PHONE_RE.match(phone):
        errors["contact_phone"] = [_("Enter a phone number.")]
    out["contact_phone"] = phone
    raw_cat = data.get("category")
    try:
        cat_id = int(raw_cat)
        if isinstance(raw_cat, bool):
            raise TypeError
    except (TypeError, ValueError):
        errors["category"] = [_("Choose a category.")]
        cat_id = None
    if cat_id is not None:
        category = Category.objects.filter(pk=cat_id, is_active=True, sensitive=False).first()
        if category is None:
            errors["category"] = [_("Choose one of the categories offered.")]
        out["category"] = category
    location = data.get("location")
    if location not in (None, "", {}):
        try:
            lat, lng = float(location["lat"]), float(location["lng"])
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise ValueError
            out["location"] = {"lat": lat, "lng": lng}
        except (TypeError, KeyError, ValueError):
            errors["location"] = [_("Send the location as {lat, lng}.")]
    if errors:
        raise ValidationFailed(_("Please check the highlighted fields."), fields=errors)
    if not out["title"]:
        words = " ".join(out["description"].split())
        out["title"] = words[:30] + ("…" if len(words) > 30 else "")
    return out


def _near_the_grid(grid, location) -> None:
    """A resident's location far from their micro-grid (its centroid, or its street's) is a mistake or a prank."""
    if not location:
        return
    anchors = [grid] + list(tree.ancestors(grid))[::-1]  # nearest first
    anchor = next((g for g in anchors if g.centroid_lat is not None and g.centroid_lng is not None), None)
    if anchor is None:
        return
    limit = float(getattr(settings, "INTAKE_MAX_DISTANCE_METRES", 5000))
    if duplicates.distance_m(location["lat"], location["lng"], anchor.centroid_lat, anchor.centroid_lng) > limit:
        raise ValidationFailed(_("This location is far from your grid. Leave the location out or check it."),
                               code="location_out_of_area",
                               fields={"location": [_("Far from this grid.")]})


def located_grid(grid, location):
    """A located report goes to the micro-grid of the QR code's community whose boundary holds the point (the
    resident may stand at the next corner); the QR code's micro-grid when none does."""
    if not location:
        return grid
    community = areas.community_of(grid)
    return geo.grid_at(location["lat"], location["lng"], community or grid) or grid


def _same_report(ticket, data) -> IntakeTicket:
    case = ticket.case
    if case.category_id != data["category"].pk or case.description != data["description"] or \
            case.title != data["title"]:
        raise Conflict(_("This report key was already used for a different report."))
    return ticket


def submit(grid, data: dict, now=None) -> Submitted:
    """File a resident's report as a case (source `resident`) in the QR code's micro-grid, with a tracking code.
    Idempotent on `client_key` (per micro-grid): a resend returns the first ticket; the same key with a
    different report is a conflict."""
    data = _clean(data)
    _near_the_grid(grid, data.get("location"))
    now = now or timezone.now()
    existing = IntakeTicket.objects.select_related("case").filter(grid=grid, client_key=data["client_key"]).first()
    if existing is not None:
        return Submitted(_same_report(existing, data), False)
    try:
        with transaction.atomic():
            case = case_services.report_by_resident(
                {"grid": located_grid(grid, data.get("location")), "category": data["category"], "title": data["title"],
                 "description": data["description"], "reporter_name": data["name"],
                 "location": data.get("location"), "channel": "resident_qr"}, now=now).case
            ticket = IntakeTicket(case=case, grid=grid, client_key=data["client_key"], reporter_name=data["name"],
                                  created_at=now)
            ticket.contact_phone = data["contact_phone"]
            ticket.code = _unique_code()
            ticket.save(force_insert=True)
    except IntegrityError:
        # A concurrent resend with the same key won the race.
        existing = IntakeTicket.objects.select_related("case").filter(grid=grid, client_key=data["client_key"]).first()
        if existing is None:
            raise
        return Submitted(_same_report(existing, data), False)
    return Submitted(ticket, True)


# --- tracking and rating ----------------------------------------------------------------------------------

def ticket_for_code(code: str):
    """The resident's own report (IntakeTicket) or a report they follow (IntakeFollow) by its tracking code."""
    code = normalise_code(code)[:16]
    ticket = IntakeTicket.objects.select_related("case__category", "grid").filter(code=code).first()
    if ticket is None:
        ticket = IntakeFollow.objects.select_related("case__category", "grid").filter(code=code).first()
    if ticket is None:
        raise NotFound(_("No report has this tracking code."), code="unknown_tracking_code")
    return ticket


def _unique_code() -> str:
    for _attempt in range(5):
        code = new_code()
        if not (IntakeTicket.objects.filter(code=code).exists() or IntakeFollow.objects.filter(code=code).exists()):
            return code
    return new_code()


def can_rate(case) -> bool:
    """Once per closing: after a dissatisfied rating reopens the case, it can be rated again when closed again."""
    if case.status != Status.CLOSED:
        return False
    return not (case.rated_at and case.closed_at and case.rated_at >= case.closed_at)


def public_timeline(case) -> list[dict]:
    events = CaseEvent.objects.filter(case=case, action__in=list(PUBLIC_EVENTS)).order_by("id") \
        .values("action", "to_status", "at")
    return [{"at": e["at"], "action": e["action"], "label": str(PUBLIC_EVENTS[e["action"]]),
             "status": e["to_status"] or None} for e in events]


def public_replies(case) -> list[dict]:
    """What staff wrote for the resident (the `public_reply` of a resolve); internal notes are never shown."""
    events = CaseEvent.objects.filter(case=case, action="resolve", payload__has_key="public_reply") \
        .order_by("id").values("payload", "at")
    return [{"at": e["at"], "text": e["payload"]["public_reply"]} for e in events]


MERGE_HOPS = 5


def followed_case(case):
    """The case whose progress a report shows: itself, or — merged as a duplicate — the case it was joined with
    (following a merged case's own merge too, a few hops at most)."""
    shown = case
    for _hop in range(MERGE_HOPS):
        if shown.status != Status.MERGED or not shown.merged_into_id:
            break
        shown = Case.objects.select_related("category").get(pk=shown.merged_into_id)
    return shown


def tracking(ticket) -> dict:
    case = ticket.case
    own = isinstance(ticket, IntakeTicket)
    # Joined with another report: the resident follows the case that is being handled.
    shown = followed_case(case)
    return {
        "code": ticket.code, "number": case.number, "title": case.title if own else shown.category.name,
        "category": case.category.name, "grid_name": ticket.grid.name,
        "status": shown.status, "status_text": str(STATUS_WORDS.get(shown.status, shown.status)),
        "reported_at": case.created_at, "closed_at": shown.closed_at,
        "rating": case.rating or None, "rating_comment": case.rating_comment if own else "",
        "can_rate": own and shown.pk == case.pk and can_rate(case),
        "following": not own, "merged": shown.pk != case.pk,
        "timeline": public_timeline(case) + (public_timeline(shown) if shown.pk != case.pk else []),
        "replies": public_replies(shown),
        "photos": photo_count(case) if own else 0, "can_add_photos": own and _photos_open(case),
    }


def rate(ticket, rating, comment="") -> IntakeTicket:
    """The resident rates the result once after closing; dissatisfied reopens the case (the workflow's `rate`)."""
    errors = {}
    if rating not in Rating.values:
        errors["rating"] = [_("Choose satisfied, basically or dissatisfied.")]
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        errors["comment"] = [_("Enter text.")]
    elif len(comment.strip()) > COMMENT_MAX:
        errors["comment"] = [_("Keep this under %(n)s characters.") % {"n": COMMENT_MAX}]
    if errors:
        raise ValidationFailed(_("Please check the highlighted fields."), fields=errors)
    if not isinstance(ticket, IntakeTicket):
        raise InvalidTransition(_("Only the resident who reported the problem can rate it."), code="not_reporter")
    case = ticket.case
    if case.status != Status.CLOSED:
        raise InvalidTransition(_("The report can be rated once it is closed."))
    if not can_rate(case):
        raise InvalidTransition(_("This report has already been rated."), code="already_rated")
    workflow.rate_by_resident(case.pk, rating, comment.strip())
    return ticket_for_code(ticket.code)


# --- photos, duplicates and following ---------------------------------------------------------------------------

def photo_count(case) -> int:
    return Attachment.objects.filter(case=case, uploaded_by__isnull=True, kind=AttachmentKind.BEFORE).count()


def _photos_open(case) -> bool:
    return case.status in (Status.REPORTED, Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS)


def add_photo(ticket, upload):
    """A photo of the resident's own report (the tracking code is the key), at most MAX_PHOTOS, checked like
    every attachment (type sniffed from the bytes, size capped, thumbnail made)."""
    if not isinstance(ticket, IntakeTicket):
        raise InvalidTransition(_("Only the resident who reported the problem can add photos."), code="not_reporter")
    case = ticket.case
    if not _photos_open(case):
        raise InvalidTransition(_("Photos cannot be added to a finished case."))
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # one upload at a time per case
        if photo_count(case) >= MAX_PHOTOS:
            raise ValidationFailed(_("At most %(n)s photos.") % {"n": MAX_PHOTOS}, code="too_many_photos",
                                   fields={"file": [_("At most %(n)s photos.") % {"n": MAX_PHOTOS}]})
        return case_services.store_attachment(None, case, upload, AttachmentKind.BEFORE)


def _point(lat, lng):
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None, None
    return lat, lng


def similar(grid, category, lat=None, lng=None) -> list[dict]:
    """Open reports like this one nearby, as a resident may see them: no words of the other resident, no names;
    only the category, the status in plain words, when, how far, and a reference to follow it by."""
    try:
        category_id = int(category)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"category": [_("Choose a category.")]})
    if category_id not in public_category_ids():
        raise ValidationFailed(fields={"category": [_("Choose one of the categories offered.")]})
    lat, lng = _point(lat, lng)
    out = []
    for case, near in duplicates.for_resident(grid, category_id, lat, lng):
        out.append({"ref": signing.dumps(case.pk, salt=FOLLOW_SALT), "category": case.category.name,
                    "status": case.status, "status_text": str(STATUS_WORDS.get(case.status, case.status)),
                    "reported_at": case.created_at, "distance_m": round(near) if near is not None else None,
                    "followers": case.intake_follows.count()})
    return out


def follow(grid, data: dict, now=None) -> Submitted:
    """已有人反映，点此关注: a tracking code of the resident's own for a case already reported nearby.
    Idempotent on `client_key` like a report."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("Send a JSON object."), code="malformed_request")
    key = data.get("client_key")
    if not isinstance(key, str) or not key.strip() or len(key) > 64:
        raise ValidationFailed(fields={"client_key": [_("This field is required.")]})
    try:
        case_id = signing.loads(str(data.get("ref") or ""), salt=FOLLOW_SALT, max_age=30 * 24 * 3600)
    except signing.BadSignature:
        raise ValidationFailed(fields={"ref": [_("This report can no longer be followed.")]})
    existing = IntakeFollow.objects.select_related("case__category", "grid").filter(grid=grid, client_key=key).first()
    if existing is not None:
        if existing.case_id != case_id:
            raise Conflict(_("This report key was already used for a different report."))
        return Submitted(existing, False)
    case = Case.objects.filter(pk=case_id, sensitive=False, status__in=list(state.UNFINISHED)).first()
    if case is None:
        raise InvalidTransition(_("This problem has already been dealt with. Report it again if it is back."),
                                code="not_open")
    try:
        with transaction.atomic():
            row = IntakeFollow.objects.create(case=case, grid=grid, client_key=key.strip(), code=_unique_code(),
                                              created_at=now or timezone.now())
    except IntegrityError:
        row = IntakeFollow.objects.get(grid=grid, client_key=key.strip())
        return Submitted(row, False)
    return Submitted(row, True)


def reveal_contact(user, case, request=None) -> dict:
    """The contact a resident left, in clear, for staff who call residents on the case's grid; audited like a
    resident's phone (action `reveal`, the ticket as the object)."""
    from gridcase.core import audit
    from gridcase.grids.roles import PHONE_ROLES
    from gridcase.grids.scoping import scope_for

    ticket = IntakeTicket.objects.filter(case_id=case.pk).first()
    if ticket is None or not ticket.contact_phone_encrypted:
        raise NotFound(_("The resident left no phone number."), code="no_contact")
    scope = scope_for(user)
    if not (scope.is_global or scope.roles_at(case.grid) & PHONE_ROLES or scope.roles_at(case.owner_grid) & PHONE_ROLES):
        raise Forbidden()
    phone = ticket.contact_phone
    audit.record(user, "reveal", [ticket], ["contact_phone"], request, case=case.pk)
    return {"name": ticket.reporter_name, "phone": phone}
