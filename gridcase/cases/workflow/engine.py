"""Applying an action of the table in state.py: the one place a case's row changes.

`apply()` checks, in this order, scope (404), role (403), `version` (409 conflict / 412 with If-Match),
status (409 invalid_transition), the action's guard (403/409) and input (400); then, in one transaction,
writes the new state with a compare-and-set on `version`, appends a CaseEvent, writes the plan's ledger
rows and queues its notifications (delivered after commit). Two people acting at once: one wins, the other
gets 409.
"""

from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core import statements
from gridcase.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from gridcase.grids.choices import Role
from gridcase.grids.models import Department
from gridcase.grids.scoping import Scope, scope_for

from .. import state
from ..choices import ExtensionState
from ..models import Case, CaseDepartment, CaseEvent, ExtensionRequest
from ..overlap import dedicated_roles
from . import hops, recipients
from .plan import REGISTRY, At, Step, settle


class PreconditionFailed(Conflict):
    status = 412
    code = "precondition_failed"


class Lost(Exception):
    """The compare-and-set found another version: someone else acted first."""


@dataclass
class Ctx(At):
    """A live action: the plan's `At` plus who acts, their scope, roles and relations, and the request data."""

    actor: object = None
    scope: Scope = field(default_factory=lambda: Scope(user_id=None))
    roles: set = field(default_factory=set)
    relations: set = field(default_factory=set)
    data: dict = field(default_factory=dict)


# --- loading and who-is-who ------------------------------------------------------------------------------------

def _joined(qs):
    return qs.select_related("owner_grid", "grid", "dedicated_grid", "category", "assignee",
                             "intake_ticket").annotate(has_pending_extension=Exists(
        ExtensionRequest.objects.filter(case=OuterRef("pk"), state=ExtensionState.PENDING)))


def with_related(qs):
    """The joins and prefetches every read of a case needs (constant queries per page)."""
    return _joined(qs).prefetch_related(
        Prefetch("case_departments", CaseDepartment.objects.select_related("department").order_by("id")))


def _json_of(model, prefix=""):
    return JSONObject(**{f.attname: F(prefix + f.attname) for f in model._meta.concrete_fields})


# A case's departments as one array of JSON objects (each with its department), read with the case.
DEPARTMENT_ROWS = ArraySubquery(CaseDepartment.objects.filter(case_id=OuterRef("pk")).order_by("id").values(
    json=JSONObject(link=_json_of(CaseDepartment), department=_json_of(Department, "department__"))))


def _from_json(model, row: dict):
    fields = model._meta.concrete_fields
    return model.from_db(DEFAULT_DB_ALIAS, [f.attname for f in fields],
                         [None if row[f.attname] is None else f.to_python(row[f.attname]) for f in fields])


def read_one(qs):
    """The first case of `qs` with what `with_related` gives, in one query on PostgreSQL: its departments come
    as an array of JSON in the case's row and are put where the prefetch puts them (a page of cases prefetches
    them in a second query instead; SQLite does that for one case too)."""
    if connection.vendor != "postgresql":
        return with_related(qs).first()
    return _with_departments(_joined(qs).annotate(department_rows=DEPARTMENT_ROWS).first())


def read_prepared(key, scope: Scope | None, build, pk) -> Case | None:
    """`read_one(build(pk))` from a statement compiled and prepared once per (`key`, scope) (gridcase.core
    .statements): `build(pk)` returns the case's queryset, the same for every pk but the pk. Elsewhere than
    PostgreSQL, `read_one` as it is."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if connection.vendor != "postgresql":
        return read_one(build(pk))
    if not statements.in_bigint(pk):
        return None
    stmt = statements.prepared(
        (key, None if scope is None else scope.key),
        lambda pk: _joined(build(pk)).annotate(department_rows=DEPARTMENT_ROWS).order_by("pk")[:1])
    found = stmt.objects(pk=pk)
    return _with_departments(found[0] if found else None)


def read_many(ids) -> list[Case]:
    """The cases `ids` (any order) with what `with_related` gives: on PostgreSQL one statement, compiled and
    prepared once for lists of any length (`pk__any`), the departments read as JSON with each case."""
    if connection.vendor != "postgresql":
        return list(with_related(Case.objects.filter(pk__in=ids)))
    stmt = statements.prepared("case.many", lambda pk: _joined(Case.objects.filter(pk__any=pk)).annotate(
        department_rows=DEPARTMENT_ROWS))
    return [_with_departments(case) for case in stmt.objects(pk=list(ids))]


def _with_departments(case):
    """The departments read as JSON with the case, put where `with_related`'s prefetch puts them."""
    if case is None:
        return None
    links = []
    for row in case.department_rows or ():
        link = _from_json(CaseDepartment, row["link"])
        link.department = _from_json(Department, row["department"])
        link.case = case
        links.append(link)
    # What the prefetch leaves: a queryset of the case's links, already read (its filter is built only if someone
    # narrows it further, as Django's related managers defer theirs).
    cached = QuerySet(CaseDepartment)
    cached._deferred_filter = (False, (), {"case_id": case.pk})
    cached._result_cache, cached._prefetch_done = links, True
    case._prefetched_objects_cache = {"case_departments": cached}
    del case.department_rows
    return case


def load(case_id, scope: Scope | None):
    def build(pk):
        return (Case.objects.all() if scope is None else Case.objects.restrict(scope)).filter(pk=pk)

    return read_prepared("case.load", scope, build, case_id)


def roles_on(case, scope: Scope) -> set:
    """Roles at the owner grid; a worker holding the case's dedicated grid (school, hospital …) counts like one
    holding its grid while the case is owned where it happened (`overlap.dedicated_roles`)."""
    if scope.is_global:
        return {Role.ADMIN}
    return set(scope.roles_at(case.owner_grid)) | dedicated_roles(case, scope)


def relations_to(case, scope: Scope) -> set:
    rel = set()
    if scope.user_id is None:
        return rel
    if case.assignee_id == scope.user_id:
        rel.add(state.ASSIGNEE)
    if case.reporter_id == scope.user_id:
        rel.add(state.REPORTER)
    if scope.department_ids and any(cd.department_id in scope.department_ids for cd in case.case_departments.all()):
        rel.add(state.OFFICER)
    return rel


def context(case, actor, scope: Scope, data=None, now=None) -> Ctx:
    return Ctx(case, now or timezone.now(), scope.user_id, None, actor, scope, roles_on(case, scope),
               relations_to(case, scope), dict(data or {}))


def allowed_actions(case, scope: Scope) -> list[str]:
    """The actions the caller could run on the case now (no database queries with `with_related`)."""
    ctx = context(case, None, scope)
    out = []
    for name, t in state.TRANSITIONS.items():
        if case.status not in t.sources or not state.permitted(name, ctx.roles, ctx.relations):
            continue
        guard = REGISTRY[name].guard
        if guard is not None:
            try:
                guard(ctx)
            except (Forbidden, InvalidTransition):
                continue
        out.append(name)
    return out


# --- applying -----------------------------------------------------------------------------------------------

def apply(case_id, action: str, actor, data: dict | None = None, *, version=None, if_match: bool = False,
          present=None, now=None, reload=None) -> Case:
    """Run `action` on the case as `actor`. `version` is the version the caller saw; `present(case)` renders
    the current case for a conflict answer; `now` (default: the clock) is when it happens; `reload(pk)` reads
    the case once written (default: `load` unscoped), so a caller that shows more reads it once."""
    act = REGISTRY.get(action)
    if act is None:
        raise NotFound(_("Unknown action."))
    scope = scope_for(actor)
    case = load(case_id, scope)
    if case is None:
        raise NotFound()
    ctx = context(case, actor, scope, data, now)
    if not state.permitted(action, ctx.roles, ctx.relations):
        raise Forbidden()
    if parse_version(version) != case.version:
        raise conflict(case, if_match, present)
    if case.status not in act.transition.sources:
        raise InvalidTransition(act.refused, current=present(case) if present and not act.refused else None)
    try:
        if not perform(ctx, action):
            return case
    except Lost:
        raise conflict(load(case.pk, None), if_match, present)
    return reload(case.pk) if reload is not None else load(case.pk, None)


def perform(ctx: Ctx, action: str, payload=None) -> bool:
    """Guard, input, plan and commit, in one transaction; False when the plan has nothing to change."""
    act = REGISTRY[action]
    if act.guard is not None:
        act.guard(ctx)
    missing = {f: [_("This field is required.")] for f in act.transition.requires
               if ctx.data.get(f) in (None, "", [])}
    if missing:
        raise ValidationFailed(_("Some required fields are missing."), fields=missing)
    kwargs = act.inputs(ctx)
    with transaction.atomic():
        plan = act.plan(ctx, **kwargs)
        if plan is None:
            return False
        plan.payload.update(payload or {})
        commit(ctx.case, settle(ctx, action, plan), ctx.actor, ctx.now)
    return True


def conflict(case, if_match, present):
    cls = PreconditionFailed if if_match else Conflict
    return cls(current=present(case) if present and case is not None else None)


def parse_version(value) -> int:
    if value in (None, ""):
        raise ValidationFailed(_("Send the version of the case you are acting on."),
                               fields={"version": [_("This field is required.")]})
    try:
        return int(str(value).strip().strip('"').removeprefix('W/').strip('"'))
    except (TypeError, ValueError):
        raise ValidationFailed(_("The version must be a whole number."), fields={"version": [_("Invalid value.")]})


def commit(case, step: Step, actor, now) -> CaseEvent:
    """Compare-and-set the case's row, append the event, write the ledger rows, queue the notices."""
    new_version = case.version + 1
    updated = Case.objects.filter(pk=case.pk, version=case.version).update(
        **step.changes, version=new_version, updated_at=now)
    if updated != 1:
        raise Lost()
    for key, value in step.changes.items():
        setattr(case, key, value)
    case.version = new_version
    event = record_event(case, step.action, actor, step.from_status, step.to_status, new_version, step.comment,
                         step.payload, now)
    hops.write(case.pk, step.ops, now)
    for notice in step.notices:
        recipients.tell(case, notice)
    return event


def record_event(case, action, actor, from_status, to_status, version, comment="", payload=None, at=None):
    # The event carries the case as written, so its hooks (points) need not read it again.
    link = {"case": case} if isinstance(case, Case) else {"case_id": case.pk}
    return CaseEvent.objects.create(**link, action=action, actor=actor if getattr(actor, "pk", None) else None,
                                    from_status=from_status or "", to_status=to_status or "", version=version,
                                    comment=str(comment or ""), payload=payload or {}, at=at or timezone.now())
