"""Creating and editing cases, numbering them, and storing their photos. Transitions live in workflow.py."""

import io
import os
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from gridcase.core import audit
from gridcase.core.errors import Conflict, DomainError, Forbidden, InvalidTransition, ValidationFailed
from gridcase.grids import areas, geo, tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid
from gridcase.grids.roles import CASE_WORKERS
from gridcase.grids.scoping import scope_for

from . import overlap, rules, state, workflow
from .choices import AttachmentKind, Source, Status
from .models import Attachment, Case, Category

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

def community_of(grid, ancestors=None):
    """The community whose numbers a case at `grid` takes (`grids.areas.community_of`); a grid outside any
    community numbers its own."""
    return areas.community_of(grid, ancestors) or grid


def _code_parts(grid) -> list[str]:
    return [p for p in grid.code.upper().split("-") if p] or [str(grid.pk)]


def _clashing(grid):
    """Other grids of its level whose code ends like this one's (then numbers take two parts of the code)."""
    return Grid.objects.filter(level=grid.level, code__iendswith=f"-{_code_parts(grid)[-1]}").exclude(pk=grid.pk)


def code_suffix(grid, clash: bool | None = None) -> str:
    """The community's short code in case numbers: the last part of its code (`CD-BL-BLZ` → `BLZ`), or the
    last two parts when another grid of its level ends the same way (`CT-S02-C01` → `S02C01`). `clash`: the
    caller has asked already (`next_number` does, in its own statement)."""
    parts = _code_parts(grid)
    if clash is None:
        clash = len(parts) > 1 and _clashing(grid).exists()
    return ("".join(parts[-2:]) if clash and len(parts) > 1 else parts[-1])[:16]


def next_number(community, when) -> str:
    """`2026-BLZ-000123`: per community and year, from an atomic upsert (no two cases share a number). The
    upsert and the suffix's clash check are one statement."""
    year = when.astimezone(TZ).year
    upsert = ("INSERT INTO cases_casenumbersequence (community_id, year, last) VALUES (%s, %s, 1) "
              "ON CONFLICT (community_id, year) DO UPDATE SET last = cases_casenumbersequence.last + 1 "
              "RETURNING last")
    if connection.vendor != "postgresql":  # SQLite (`make run`): no INSERT inside WITH; two statements
        with connection.cursor() as cursor:
            cursor.execute(upsert, [community.pk, year])
            seq = cursor.fetchone()[0]
        return f"{year}-{code_suffix(community)}-{seq:06d}"
    clash_sql, clash_params = _clashing(community).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH seq AS (INSERT INTO cases_casenumbersequence (community_id, year, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (community_id, year) DO UPDATE SET last = cases_casenumbersequence.last + 1 "
            f"RETURNING last) SELECT last, EXISTS({clash_sql}) FROM seq", [community.pk, year, *clash_params])
        seq, clash = cursor.fetchone()
    return f"{year}-{code_suffix(community, clash)}-{seq:06d}"


# --- creation ---------------------------------------------------------------------------------------------

@dataclass
class Created:
    case: Case
    created: bool


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
    """(grid where it happened, dedicated grid). A case in a school names both the school and the micro-grid.
    A located report naming a grid above the micro-grids (and no unit) goes to the micro-grid under it whose
    boundary holds the point (gridcase.grids.geo)."""
    unit, building = data.get("unit"), data.get("building")
    dedicated = data.get("dedicated_grid")
    location = data.get("location")
    if location and unit is None and grid.level not in (Level.MICRO_GRID, Level.DEDICATED):
        grid = geo.grid_at(location["lat"], location["lng"], grid) or grid
    if grid.level == Level.DEDICATED:
        dedicated, grid = grid, (unit.micro_grid if unit is not None else grid)
    if dedicated is not None and dedicated.level != Level.DEDICATED:
        raise ValidationFailed(fields={"dedicated_grid": [_("Choose a dedicated grid.")]})
    if unit is not None and grid.level == Level.MICRO_GRID and unit.micro_grid_id != grid.pk:
        raise ValidationFailed(_("The unit is not in this micro-grid."), fields={"unit": [_("Not in this grid.")]})
    if building is not None and grid.level == Level.GRID and building.grid_id != grid.pk:
        raise ValidationFailed(_("The building is not in this grid."), fields={"building": [_("Not in this grid.")]})
    if dedicated is not None and dedicated.parent_id and grid.level != Level.DEDICATED:
        if not overlap.overlaps(grid, dedicated):
            raise ValidationFailed(_("A dedicated grid overlaps only the grids of its own community."),
                                   code="dedicated_grid_elsewhere",
                                   fields={"dedicated_grid": [_("The dedicated grid is in another community.")]})
    return grid, dedicated


def create_case(actor, data: dict, *, now=None, ancestors=None) -> Created:
    """Report a case. Idempotent on (reporter, client_key): a resend returns the first case; the same key
    with different content is a conflict. The category's skip rule decides the owning grid and may whistle
    departments at once. `ancestors`: the grid's ancestors (root first) when the caller has just read them with
    the grid, and any dedicated grid, as the API's validation does (then neither is read again)."""
    now = now or timezone.now()
    scope = scope_for(actor)
    if ancestors is None:
        data, ancestors = _fresh_grids(data)
    # A dedicated grid's worker may report at a grid of its community by naming the dedicated grid (overlap.py).
    if not overlap.may_report(scope, data["grid"], data.get("dedicated_grid")):
        raise Forbidden(_("You can report cases only in grids you work in."))
    return _create(actor, data, now, ancestors)


def report_by_resident(data: dict, *, now=None, source=Source.RESIDENT) -> Created:
    """A resident's report through the QR code posted in their building: there is no account, so no role
    check; the grid is the one the QR code names. Everything else is `create_case`'s: skip rules, SLA,
    numbering, event, hop ledger, notifications, idempotency on `client_key`. The interop channels (Open311:
    `api`, the 12345 hotline: `hotline_12345`) file residents' reports the same way under their own source."""
    data, ancestors = _fresh_grids({**data, "source": source})
    return _create(None, data, now or timezone.now(), ancestors)


def _fresh_grids(data: dict) -> tuple[dict, list]:
    """The grids as stored now, and the grid's ancestors (root first) read with it in one query: tree positions
    held in memory go stale when the tree is renumbered."""
    *ancestors, data["grid"] = tree.chain(Grid, data["grid"].pk) or [Grid.objects.get(pk=data["grid"].pk)]
    if data.get("dedicated_grid") is not None:
        data["dedicated_grid"] = Grid.objects.get(pk=data["dedicated_grid"].pk)
    return data, ancestors


def _create(actor, data: dict, now, ancestors=None) -> Created:
    grid: Grid = data["grid"]
    category: Category = data["category"]
    if not category.is_active:
        raise ValidationFailed(fields={"category": [_("This category is no longer used.")]})
    client_key = (data.get("client_key") or "").strip()
    # An account's resend is caught by the unique (reporter, client_key) at the insert below (no lookup on the
    # way of every new case); a resident's report has no reporter, so its key is looked up first.
    if client_key and actor is None:
        existing = Case.objects.filter(reporter=None, client_key=client_key).first()
        if existing is not None:
            return Created(_same_or_conflict(existing, data), False)
    data = _check_places(dict(data))
    placed, dedicated = _place_grids(data, grid)
    if placed.pk != grid.pk or ancestors is None:
        ancestors = list(tree.ancestors(placed))
    grid = placed
    priority = data.get("priority") or category.default_priority
    owner = rules.entry_grid(category, priority, grid, ancestors)
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
    plan = workflow.opening(workflow.At(case, now, actor.pk if actor else None), grid, owner,
                            rules.skip_departments(category, priority, owner),
                            rules.copy_grids(category, grid, owner, ancestors), data.get("channel") or "")
    for key, value in plan.changes.items():
        setattr(case, key, value)
    community = community_of(grid, ancestors)
    try:
        with transaction.atomic():
            # The community's number row stays locked from its upsert to the commit, so concurrent reports in one
            # community queue there: on PostgreSQL the case's id is drawn first, its event, ledger and recipients
            # are written and read (the foreign keys are checked at the commit), and the number is taken last.
            reserved = _reserved_pk(Case)
            if reserved is None:  # elsewhere (SQLite, one writer at a time): numbered and written first
                _number_and_insert(case, community, now)
            else:
                case.pk = reserved
            workflow.record_event(case, "create", actor, "", Status.REPORTED, 1, plan.comment, plan.payload, now)
            workflow.write_ledger(case.pk, plan.ops, now)
            told = [(notice, notice.to(case)) for notice in plan.notices]
            if reserved is not None:
                _number_and_insert(case, community, now)
            for notice, recipients in told:
                workflow.tell(case, notice, recipients)
    except IntegrityError:
        if not client_key:
            raise
        # A concurrent resend with the same key won the race.
        existing = Case.objects.filter(reporter=actor, client_key=client_key).first()
        if existing is None:
            raise
        return Created(_same_or_conflict(existing, data), False)
    return Created(case, True)


def _reserved_pk(model):
    """An id from the table's own sequence, drawn before the row is written (PostgreSQL); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))", [model._meta.db_table, model._meta.pk.column])
        return cursor.fetchone()[0]


def _number_and_insert(case, community, now) -> None:
    case.number = next_number(community, now)
    case.save(force_insert=True)


def _same_or_conflict(existing, data):
    given = {"category_id": data["category"].pk, "grid_id": data["grid"].pk, "title": data["title"].strip(),
             "description": (data.get("description") or "").strip()}
    same_grid = existing.grid_id == given["grid_id"] or existing.dedicated_grid_id == given["grid_id"]
    if not same_grid or any(getattr(existing, k) != v for k, v in given.items() if k != "grid_id"):
        raise Conflict(_("This client key was already used for a different case."), code="conflict")
    return existing


# --- editing ----------------------------------------------------------------------------------------------

def update_case(actor, case_id, data: dict, *, version, if_match=False, present=None, reload=None) -> Case:
    """PATCH: title, description, priority and scope, by the owner side (staff at the owner grid) or the
    reporter while the case is still reported; the workflow's `edit` action (compare-and-set on `version`)."""
    return workflow.apply(case_id, "edit", actor, data, version=version, if_match=if_match, present=present,
                          reload=reload)


# --- sensitive reads ----------------------------------------------------------------------------------------

def audit_sensitive_reads(actor, cases, request=None) -> None:
    """Every read of a sensitive case is recorded (one INSERT for a whole page)."""
    sensitive = [c for c in cases if c.sensitive]
    if sensitive:
        audit.record(actor, "read_sensitive", sensitive, ["description"], request)


# --- attachments ----------------------------------------------------------------------------------------------


def can_attach(case, scope) -> bool:
    rel = workflow.relations_to(case, scope)
    if rel & {state.ASSIGNEE, state.OFFICER, state.REPORTER} or scope.is_global:
        return True
    return bool(scope.roles_at(case.owner_grid) & CASE_WORKERS or scope.roles_at(case.grid) & CASE_WORKERS
                or overlap.dedicated_roles(case, scope))


def add_attachment(actor, case, upload, kind=AttachmentKind.BEFORE, client_key=None) -> tuple[Attachment, bool]:
    """Store a photo: the type is sniffed from the bytes (not the name), the size capped, a thumbnail made.
    With the phone's `client_key` (a uuid), a repeat of the same upload on the same case stores nothing and
    gives back the photo stored the first time: returns (attachment, created)."""
    scope = scope_for(actor)
    if not can_attach(case, scope):
        raise Forbidden()
    key = parse_client_key(client_key)
    if key is not None:
        stored = Attachment.objects.filter(case=case, client_key=key).first()
        if stored is not None:
            return stored, False
    try:
        return store_attachment(actor, case, upload, kind, client_key=key), True
    except IntegrityError:
        # The same upload arrived twice at once (a retry racing its original): the first one stored is the photo.
        stored = Attachment.objects.filter(case=case, client_key=key).first() if key is not None else None
        if stored is None:
            raise
        return stored, False


def parse_client_key(value):
    """The phone's key for an upload: a uuid, or nothing."""
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(fields={"client_key": [_("Must be a valid UUID.")]}) from None


def store_attachment(actor, case, upload, kind=AttachmentKind.BEFORE, client_key=None) -> Attachment:
    """`add_attachment` once the caller may attach (a resident's own report through its tracking code: actor None)."""
    if case.status in (Status.CLOSED, Status.REJECTED, Status.MERGED):
        raise InvalidTransition(_("Photos cannot be added to a finished case."))
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
                         height=height, original_name=(getattr(upload, "name", "") or "")[:200], uploaded_by=actor,
                         client_key=client_key)
        att.file.save(f"{base}.{ext}", ContentFile(raw), save=False)
        att.thumbnail.save(f"{base}_thumb.jpg", ContentFile(out.getvalue()), save=False)
        att.save()
        workflow.record_event(case, "attach", actor, "", "", case.version, "",
                              {"attachment": att.pk, "kind": kind})
    return att
