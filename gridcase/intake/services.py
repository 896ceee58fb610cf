"""Resident intake (居民扫码上报): what a resident sees after scanning their micro-grid's QR code, reporting a
problem, tracking it by its code and rating the result.

Everything here is public (no sign-in), so it reveals only what a notice on the stairwell would: the grid's
name and path, the worker's masked name, the case's status in plain words and a timeline without staff names
or internal comments.
"""

import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.cases import categories, workflow
from gridcase.cases import services as case_services
from gridcase.cases.choices import Rating, Status
from gridcase.cases.models import CaseEvent, Category
from gridcase.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.accounts import display_name
from gridcase.grids.choices import Level, Role
from gridcase.grids.models import Grid, Membership
from gridcase.grids.roles import FIELD_WORKERS

from .models import IntakeTicket

# Crockford's base32 without look-alikes (no I, L, O, U): 32^8 ≈ 10^12 codes.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
TITLE_MAX, DESCRIPTION_MAX, NAME_MAX, COMMENT_MAX = 200, 2000, 60, 500
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
    grid = Grid.objects.filter(qr_token=str(token or "")[:32], level=Level.MICRO_GRID).first()
    if grid is None:
        raise NotFound(_("This QR code is not known. Ask your grid worker for a new one."), code="unknown_qr_token")
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
    holders = [grid.pk] + ([grid.parent_id] if grid.parent_id else [])
    rows = list(Membership.objects.filter(grid_id__in=holders, role__in=FIELD_WORKERS)
                .select_related("user").order_by("id"))
    for grid_id, role in ((grid.pk, Role.MICRO_GRID_WORKER), (grid.parent_id, Role.GRID_WORKER)):
        for m in rows:
            if m.grid_id == grid_id and m.role == role:
                return mask_name(display_name(m.user))
    return ""


def intake_page(grid) -> dict:
    path = tree.ancestor_paths([grid], include_self=True)[grid.pk]
    return {"grid": {"name": grid.name, "code": grid.code, "path": path},
            "worker": {"public_name": worker_name(grid)},
            "categories": public_categories()}


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
    now = now or timezone.now()
    existing = IntakeTicket.objects.select_related("case").filter(grid=grid, client_key=data["client_key"]).first()
    if existing is not None:
        return Submitted(_same_report(existing, data), False)
    try:
        with transaction.atomic():
            case = case_services.report_by_resident(
                {"grid": grid, "category": data["category"], "title": data["title"],
                 "description": data["description"], "reporter_name": data["name"],
                 "location": data.get("location"), "channel": "resident_qr"}, now=now).case
            ticket = IntakeTicket(case=case, grid=grid, client_key=data["client_key"], reporter_name=data["name"],
                                  created_at=now)
            ticket.contact_phone = data["contact_phone"]
            for _attempt in range(5):
                ticket.code = new_code()
                if not IntakeTicket.objects.filter(code=ticket.code).exists():
                    break
            ticket.save(force_insert=True)
    except IntegrityError:
        # A concurrent resend with the same key won the race.
        existing = IntakeTicket.objects.select_related("case").filter(grid=grid, client_key=data["client_key"]).first()
        if existing is None:
            raise
        return Submitted(_same_report(existing, data), False)
    return Submitted(ticket, True)


# --- tracking and rating ----------------------------------------------------------------------------------

def ticket_for_code(code: str) -> IntakeTicket:
    ticket = (IntakeTicket.objects.select_related("case__category", "grid")
              .filter(code=normalise_code(code)[:16]).first())
    if ticket is None:
        raise NotFound(_("No report has this tracking code."), code="unknown_tracking_code")
    return ticket


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


def tracking(ticket) -> dict:
    case = ticket.case
    return {
        "code": ticket.code, "number": case.number, "title": case.title,
        "category": case.category.name, "grid_name": ticket.grid.name,
        "status": case.status, "status_text": str(STATUS_WORDS.get(case.status, case.status)),
        "reported_at": case.created_at, "closed_at": case.closed_at,
        "rating": case.rating or None, "can_rate": can_rate(case),
        "timeline": public_timeline(case),
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
    case = ticket.case
    if case.status != Status.CLOSED:
        raise InvalidTransition(_("The report can be rated once it is closed."))
    if not can_rate(case):
        raise InvalidTransition(_("This report has already been rated."), code="already_rated")
    workflow.rate_by_resident(case.pk, rating, comment.strip())
    return ticket_for_code(ticket.code)
