"""Creating and editing cases, numbering them, and storing their photos. Transitions live in workflow.py."""

import io
import os
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from gridcase.core import audit
from gridcase.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.choices import LEVEL_RANK, Level
from gridcase.grids.models import Department, Grid
from gridcase.grids.scoping import scope_for
from gridcase.notifications.models import Kind

from . import sla, state, workflow
from .choices import PRIORITY_RANK, AttachmentKind, CaseScope, HopKind, Priority, Source, Stage, Status
from .models import Attachment, Case, CaseDepartment, CaseHop, Category

TZ = ZoneInfo("Asia/Shanghai")
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMB_SIZE = (320, 320)
# Fields a client's resend must match for the same `client_key` to mean "the same case".
IDEMPOTENT_FIELDS = ("category_id", "grid_id", "title", "description")


class TooLarge(DomainError):
    status = 413
    code = "too_large"
    default_message = _("The file is too large.")


class UnsupportedType(DomainError):
    status = 415
    code = "unsupported_media_type"
    default_message = _("Only JPEG, PNG or WebP photos can be attached.")


# --- numbers ----------------------------------------------------------------------------------------------

def community_of(grid):
    """The community a grid belongs to (itself if it is one); the nearest ancestor otherwise."""
    if grid.level == Level.COMMUNITY:
        return grid
    chain = list(tree.ancestors(grid, include_self=True))
    for node in reversed(chain):
        if node.level == Level.COMMUNITY:
            return node
    return chain[-1] if chain else grid


def code_suffix(grid) -> str:
    """The community's short code in case numbers: the last part of its code (`CD-BL-BLZ` → `BLZ`), or the
    last two parts when another grid of its level ends the same way (`CT-S02-C01` → `S02C01`)."""
    parts = [p for p in grid.code.upper().split("-") if p] or [str(grid.pk)]
    clash = len(parts) > 1 and Grid.objects.filter(level=grid.level, code__iendswith=f"-{parts[-1]}").exclude(
        pk=grid.pk).exists()
    return ("".join(parts[-2:]) if clash else parts[-1])[:16]


def next_number(community, when) -> str:
    """`2026-BLZ-000123`: per community and year, from an atomic upsert (no two cases share a number)."""
    year = when.astimezone(TZ).year
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_casenumbersequence (community_id, year, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (community_id, year) DO UPDATE SET last = cases_casenumbersequence.last + 1 "
            "RETURNING last", [community.pk, year])
        seq = cursor.fetchone()[0]
    return f"{year}-{code_suffix(community)}-{seq:06d}"


# --- creation ---------------------------------------------------------------------------------------------

@dataclass
class Created:
    case: Case
    created: bool


def _entry_grid(category, priority, grid):
    """Apply the category's skip rule: the grid that owns a new case."""
    if not category.entry_level:
        return grid
    if category.skip_min_priority and PRIORITY_RANK[priority] < PRIORITY_RANK[category.skip_min_priority]:
        return grid
    want = LEVEL_RANK.get(category.entry_level, 0)
    if LEVEL_RANK.get(grid.level, 0) >= want:
        return grid
    for node in reversed(list(tree.ancestors(grid))):
        if LEVEL_RANK.get(node.level, 0) >= want:
            return node
    return grid


def _skip_departments(category, priority, owner):
    if owner is None or not (category.entry_level or category.department_kinds):
        return []
    if category.skip_min_priority and PRIORITY_RANK[priority] < PRIORITY_RANK[category.skip_min_priority]:
        return []
    ids = set(category.copy_departments.values_list("pk", flat=True))
    kinds = [k.strip() for k in category.department_kinds.split(",") if k.strip()]
    if kinds:
        # Departments of those kinds serving the owner's area (or above it), or city-wide.
        ids |= set(Department.objects.filter(kind__in=kinds).filter(
            tree.covering_q([tree.span(owner)], "area__") | tree.subtree_q([tree.span(owner)], "area__")
        ).values_list("pk", flat=True))
        ids |= set(Department.objects.filter(kind__in=kinds, area__isnull=True).values_list("pk", flat=True))
    return sorted(ids)


def _copy_grids(category, priority, grid, owner) -> list:
    """Grids copied (抄送) when the skip rule lifts a case above them: the case's own micro-grid and
    community still hear of a gas leak the street now owns. They see the case anyway (it lies in their
    subtree); the copy is a notice to their staff and a line in the creation event."""
    levels = {v.strip() for v in category.copy_levels.split(",") if v.strip()}
    if not levels or owner.pk == grid.pk:
        return []
    return [g for g in tree.ancestors(grid, include_self=True) if g.level in levels and g.pk != owner.pk]


def _check_places(data):
    """Fill building/unit/household from the most specific one given, and refuse mismatches."""
    resident, household, unit, building = (data.get(k) for k in ("resident", "household", "unit", "building"))
    errors = {}
    if resident is not None:
        if household is not None and resident.household_id != household.pk:
            errors["resident"] = [_("The resident does not live in this household.")]
        household = household or resident.household
    if household is not None:
        if unit is not None and household.unit_id != unit.pk:
            errors["household"] = [_("The household is not in this unit.")]
        unit = unit or household.unit
    if unit is not None:
        if building is not None and unit.building_id != building.pk:
            errors["unit"] = [_("The unit is not in this building.")]
        building = building or unit.building
    if errors:
        raise ValidationFailed(_("The place does not fit together."), fields=errors)
    data.update(resident=resident, household=household, unit=unit, building=building)
    return data


def _place_grids(data, grid):
    """(grid where it happened, dedicated grid). A case in a school names both the school and the micro-grid."""
    unit, building = data.get("unit"), data.get("building")
    dedicated = data.get("dedicated_grid")
    if grid.level == Level.DEDICATED:
        dedicated, grid = grid, (unit.micro_grid if unit is not None else grid)
    if dedicated is not None and dedicated.level != Level.DEDICATED:
        raise ValidationFailed(fields={"dedicated_grid": [_("Choose a dedicated grid.")]})
    if unit is not None and grid.level == Level.MICRO_GRID and unit.micro_grid_id != grid.pk:
        raise ValidationFailed(_("The unit is not in this micro-grid."), fields={"unit": [_("Not in this grid.")]})
    if building is not None and grid.level == Level.GRID and building.grid_id != grid.pk:
        raise ValidationFailed(_("The building is not in this grid."), fields={"building": [_("Not in this grid.")]})
    if dedicated is not None and dedicated.parent_id and grid.level != Level.DEDICATED:
        if not tree.is_inside(grid, dedicated.parent):
            raise ValidationFailed(fields={"dedicated_grid": [_("The dedicated grid is in another community.")]})
    return grid, dedicated


def create_case(actor, data: dict, *, now=None) -> Created:
    """Report a case. Idempotent on (reporter, client_key): a resend returns the first case; the same key
    with different content is a conflict. The category's skip rule decides the owning grid and may whistle
    departments at once."""
    now = now or timezone.now()
    scope = scope_for(actor)
    data = _fresh_grids(data)
    if not scope.is_global and not (scope.roles_at(data["grid"]) & state.CREATORS):
        raise Forbidden(_("You can report cases only in grids you work in."))
    return _create(actor, data, now)


def report_by_resident(data: dict, *, now=None) -> Created:
    """A resident's report through the QR code posted in their building: there is no account, so no role
    check; the grid is the one the QR code names. Everything else is `create_case`'s: skip rules, SLA,
    numbering, event, hop ledger, notifications, idempotency on `client_key`."""
    data = _fresh_grids({**data, "source": Source.RESIDENT})
    return _create(None, data, now or timezone.now())


def _fresh_grids(data: dict) -> dict:
    # Tree positions held in memory go stale when the tree is renumbered: read them fresh.
    data["grid"] = Grid.objects.get(pk=data["grid"].pk)
    if data.get("dedicated_grid") is not None:
        data["dedicated_grid"] = Grid.objects.get(pk=data["dedicated_grid"].pk)
    return data


def _create(actor, data: dict, now) -> Created:
    grid: Grid = data["grid"]
    category: Category = data["category"]
    if not category.is_active:
        raise ValidationFailed(fields={"category": [_("This category is no longer used.")]})
    client_key = (data.get("client_key") or "").strip()
    if client_key:
        existing = Case.objects.filter(reporter=actor, client_key=client_key).first()
        if existing is not None:
            return Created(_same_or_conflict(existing, data), False)
    data = _check_places(dict(data))
    grid, dedicated = _place_grids(data, grid)
    priority = data.get("priority") or category.default_priority
    owner = _entry_grid(category, priority, grid)
    location = data.get("location") or {}
    case = Case(
        title=data["title"].strip(), description=(data.get("description") or "").strip(), category=category,
        scope=data.get("scope") or "", priority=priority, sensitive=category.sensitive, grid=grid,
        owner_grid=owner, dedicated_grid=dedicated, building=data.get("building"), unit=data.get("unit"),
        household=data.get("household"), resident=data.get("resident"), lat=location.get("lat"),
        lng=location.get("lng"), source=data.get("source") or Source.PATROL, reporter=actor if actor else None,
        reporter_name=data.get("reporter_name", ""), status=Status.REPORTED, version=1, client_key=client_key,
        created_at=now, updated_at=now,
    )
    for key, value in sla.stage_timers(case, Stage.ACCEPT, now, owner.level).items():
        setattr(case, key, value)
    departments = _skip_departments(category, priority, owner)
    copies = _copy_grids(category, priority, grid, owner)
    try:
        with transaction.atomic():
            case.number = next_number(community_of(grid), now)
            case.save(force_insert=True)
            payload = {"owner_grid": owner.pk, "grid": grid.pk, "assignee": None, "sla_state": case.sla_state}
            if data.get("channel"):
                payload["channel"] = data["channel"]
            if owner.pk != grid.pk:
                payload["skip_rule"] = owner.level
            if departments:
                payload["departments"] = departments
            if copies:
                payload["copied_grids"] = [g.pk for g in copies]
            workflow.record_event(case, "create", actor, "", Status.REPORTED, 1, case.description[:200], payload, now)
            workflow.open_grid_hop(case, owner, "create", now)
            if departments:
                report_by = now + timedelta(hours=2)
                CaseDepartment.objects.bulk_create([
                    CaseDepartment(case=case, department_id=d, whistled_at=now, whistled_from=owner,
                                   whistled_by=actor if actor else None, report_by=report_by) for d in departments])
                CaseHop.objects.bulk_create([CaseHop(case=case, kind=HopKind.DEPARTMENT, department_id=d,
                                                     start_action="create", started_at=now) for d in departments])
                workflow._notify(workflow.officers_of(departments), Kind.WHISTLE, _("Whistle (吹哨): %(number)s"), case,
                                 "v1:whistle")
            workflow._notify(workflow.staff_of(owner), Kind.CASE_UPDATE, _("New case: %(number)s"),
                             case, "created")
            for g in copies:
                workflow._notify(workflow.staff_of(g), Kind.CASE_UPDATE, _("Copied to your grid: %(number)s"),
                                 case, f"copy:{g.pk}")
    except IntegrityError:
        if not client_key:
            raise
        # A concurrent resend with the same key won the race.
        existing = Case.objects.filter(reporter=actor, client_key=client_key).first()
        if existing is None:
            raise
        return Created(_same_or_conflict(existing, data), False)
    return Created(case, True)


def _same_or_conflict(existing, data):
    given = {"category_id": data["category"].pk, "grid_id": data["grid"].pk, "title": data["title"].strip(),
             "description": (data.get("description") or "").strip()}
    same_grid = existing.grid_id == given["grid_id"] or existing.dedicated_grid_id == given["grid_id"]
    if not same_grid or any(getattr(existing, k) != v for k, v in given.items() if k != "grid_id"):
        raise Conflict(_("This client key was already used for a different case."), code="conflict")
    return existing


# --- editing ----------------------------------------------------------------------------------------------

EDITABLE = ("title", "description", "priority", "scope")


def update_case(actor, case_id, data: dict, *, version, if_match=False, present=None) -> Case:
    """PATCH: title, description, priority and scope, by the owner side (staff at the owner grid) or the
    reporter while the case is still reported; with a compare-and-set on `version`."""
    scope = scope_for(actor)
    case = workflow.load(case_id, scope)
    if case is None:
        raise NotFound()
    roles = workflow.roles_on(case, scope)
    is_reporter = case.reporter_id and case.reporter_id == scope.user_id and case.status == Status.REPORTED
    if not (roles & state.STAFF or is_reporter):
        raise Forbidden()
    if workflow._parse_version(version) != case.version:
        raise workflow._conflict(case, if_match, present)
    if case.status in (Status.CLOSED, Status.REJECTED, Status.MERGED):
        raise workflow.InvalidTransition(_("A finished case cannot be edited."))
    unknown = set(data) - set(EDITABLE) - {"version"}
    if unknown:
        raise ValidationFailed(_("Only the title, description, priority and scope can be changed."),
                               fields={k: [_("This field cannot be changed here.")] for k in sorted(unknown)})
    changes, errors = {}, {}
    for key in EDITABLE:
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str):
            errors[key] = [_("Enter text.")]
            continue
        value = value.strip()
        if key == "title" and not value:
            errors[key] = [_("This field is required.")]
        elif key == "title" and len(value) > 200:
            errors[key] = [_("This text is too long.")]
        elif key == "priority" and value not in Priority.values:
            errors[key] = [_("Invalid value.")]
        elif key == "scope" and value and value not in CaseScope.values:
            errors[key] = [_("Invalid value.")]
        elif value != getattr(case, key):
            changes[key] = value
    if errors:
        raise ValidationFailed(fields=errors)
    if not changes:
        return case
    now = timezone.now()
    payload = {"changed": {k: [getattr(case, k), v] for k, v in changes.items()}}
    if "priority" in changes:
        # A new priority brings the running stage's deadline under the new policy's limits.
        timers = sla.reprioritise(case, changes["priority"], now)
        if timers:
            payload["deadline"] = [case.sla_red_at.isoformat(), timers["sla_red_at"].isoformat()]
            payload["sla_state"] = timers["sla_state"]
            changes.update(timers)
    try:
        with transaction.atomic():
            workflow.commit(case, "edit", actor, workflow.Plan(changes, payload), now)
    except workflow._Lost:
        raise workflow._conflict(workflow.load(case.pk, None), if_match, present)
    return workflow.load(case.pk, None)


# --- sensitive reads ----------------------------------------------------------------------------------------

def audit_sensitive_reads(actor, cases, request=None) -> None:
    """Every read of a sensitive case is recorded (one INSERT for a whole page)."""
    sensitive = [c for c in cases if c.sensitive]
    if sensitive:
        audit.record(actor, "read_sensitive", sensitive, ["description"], request)


# --- attachments ----------------------------------------------------------------------------------------------

UPLOAD_ROLES = state.WORKERS


def can_attach(case, scope) -> bool:
    rel = workflow.relations_to(case, scope)
    if rel & {state.ASSIGNEE, state.OFFICER, state.REPORTER} or scope.is_global:
        return True
    return bool(scope.roles_at(case.owner_grid) & UPLOAD_ROLES or scope.roles_at(case.grid) & UPLOAD_ROLES)


def add_attachment(actor, case, upload, kind=AttachmentKind.BEFORE) -> Attachment:
    """Store a photo: the type is sniffed from the bytes (not the name), the size capped, a thumbnail made."""
    scope = scope_for(actor)
    if not can_attach(case, scope):
        raise Forbidden()
    if case.status in (Status.CLOSED, Status.REJECTED, Status.MERGED):
        raise workflow.InvalidTransition(_("Photos cannot be added to a finished case."))
    if kind not in AttachmentKind.values:
        raise ValidationFailed(fields={"kind": [_("Invalid value.")]})
    if upload is None:
        raise ValidationFailed(_("Attach a file."), fields={"file": [_("This field is required.")]})
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise TooLarge(_("Photos may be at most %(mb)s MB.") % {"mb": round(limit / 1024 / 1024, 1)})
    raw = upload.read()
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            probe.verify()
        if fmt not in IMAGE_TYPES:
            raise UnsupportedType()
        with Image.open(io.BytesIO(raw)) as img:
            width, height = img.size
            img.draft("RGB", THUMB_SIZE)
            thumb = img.convert("RGB")
            thumb.thumbnail(THUMB_SIZE)
            out = io.BytesIO()
            thumb.save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UnsupportedType()
    ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
    base = os.urandom(8).hex()
    with transaction.atomic():
        att = Attachment(case=case, kind=kind, content_type=IMAGE_TYPES[fmt], size=len(raw), width=width,
                         height=height, original_name=(getattr(upload, "name", "") or "")[:200], uploaded_by=actor)
        att.file.save(f"{base}.{ext}", ContentFile(raw), save=False)
        att.thumbnail.save(f"{base}_thumb.jpg", ContentFile(out.getvalue()), save=False)
        att.save()
        workflow.record_event(case, "attach", actor, "", "", case.version, "",
                              {"attachment": att.pk, "kind": kind})
    return att
