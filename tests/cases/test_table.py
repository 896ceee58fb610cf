"""The table in state.py is the truth: every action's status change is its row's `target`, every row has one
registered action, and the workflow's modules neither import each other's private names nor in a circle."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from gridcase.cases import sla, state, workflow
from gridcase.cases.choices import Status
from gridcase.cases.models import Case, CaseDepartment, CaseEvent, ExtensionRequest

FINISHED = {Status.CLOSED, Status.REJECTED, Status.MERGED}
HANDLED = {Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED, Status.VERIFIED, Status.CLOSED}


def put_in(case, status, city):
    """The case's row as the workflow leaves it in `status` (assigned to the worker once handled)."""
    now = timezone.now()
    fields = {"status": status, "assignee_id": city.worker.pk if status in HANDLED else None,
              "closed_at": now if status in FINISHED else None}
    fields.update(sla.stage_timers(case, sla.stage_for_status(status), now))
    Case.objects.filter(pk=case.pk).update(**fields)
    case.refresh_from_db()
    return case


def run(name, case, city, other, rating="satisfied"):
    """Set the scene the action needs and run it as someone who may; answers the stored status."""
    actor, data = city.secretary, {}
    if name in ("report_in", "reply", "score_department"):
        CaseDepartment.objects.create(case=case, department=city.department, whistled_at=timezone.now(),
                                      report_by=timezone.now() + timedelta(hours=2),
                                      reported_in_at=timezone.now() if name == "score_department" else None)
    if name == "decide_extension":
        ExtensionRequest.objects.create(case=case, stage=case.sla_stage, hours=8, reason="等配件",
                                        requested_by=city.worker, requested_at=timezone.now(),
                                        old_deadline=case.sla_red_at)
    if name == "rate":  # only the resident, through the tracking code
        return workflow.rate_by_resident(case.pk, rating).status
    if name in ("start", "resolve"):
        actor = city.worker
    elif name == "verify":
        actor = city.grid_worker
    elif name in ("report_in", "reply"):
        actor = city.officer
    data = {"reject": {"reason": "不属实"}, "merge": {"into": getattr(other, "pk", None)}, "assign": {"assignee": city.worker.pk},
            "resolve": {"note": "已处理"}, "reopen": {"reason": "未解决"}, "whistle": {"departments": [city.department.pk]},
            "reply": {"note": "已到场"}, "score_department": {"department": city.department.pk, "score": 4},
            "request_extension": {"hours": 6, "reason": "等配件"}, "decide_extension": {"approve": True},
            "rate": {"rating": rating},
            "callback": {"rating": rating, "called_at": timezone.now().isoformat(), "comment": "居民说已修好"},
            "edit": {"title": "改过的标题"}, "supervise": {"comment": "请加快办理"}}.get(name, data)
    return workflow.apply(case.pk, name, actor, data, version=case.version).status


CASES = [(name, source) for name, t in state.TRANSITIONS.items() for source in sorted(t.sources)]


@pytest.mark.parametrize(("name", "source"), CASES, ids=[f"{n}-from-{s}" for n, s in CASES])
def test_every_action_changes_the_status_as_its_row_says(city, make_case, name, source):
    other = make_case(title="另一件")
    case = put_in(make_case(), source, city)
    assert run(name, case, city, other) == state.TRANSITIONS[name].to(source)
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.action, event.from_status, event.to_status) == (name, source, state.TRANSITIONS[name].to(source))


def test_the_named_outcome_of_a_row_is_the_status_too(city, make_case):
    case = put_in(make_case(), Status.CLOSED, city)
    assert run("rate", case, city, None, rating="dissatisfied") == state.TRANSITIONS["rate"].to(
        Status.CLOSED, "dissatisfied") == Status.ASSIGNED


@pytest.mark.parametrize("source", sorted(state.EDIT.sources))
def test_the_patch_edit_is_a_row_that_keeps_the_status(city, make_case, source):
    case = put_in(make_case(), source, city)
    assert run("edit", case, city, None) == source
    assert Case.objects.get(pk=case.pk).title == "改过的标题"


def test_a_plan_that_sets_the_status_itself_is_refused(city, make_case):
    case = make_case()
    with pytest.raises(ImproperlyConfigured):
        workflow.settle(workflow.At(case, timezone.now()), "accept", workflow.Plan({"status": Status.CLOSED}))


def test_every_row_has_one_registered_action_with_its_plan():
    assert set(workflow.REGISTRY) == set(state.TRANSITIONS) | {"edit", "relocate", "reassign"}
    assert set(state.INTERNAL) == {"edit", "relocate", "reassign"}
    workflow.check_registry()
    with pytest.raises(KeyError):
        workflow.action("no_such_row")
    with pytest.raises(ImproperlyConfigured):
        workflow.action("accept")(lambda at: None)


# --- the import picture ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "gridcase" / "cases", ROOT / "api" / "cases", ROOT / "gridcase" / "intake", ROOT / "gridcase" / "visits"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path):
    """(module imported, names taken from it) for every import in the file, at any depth."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            yield target, [a.name for a in node.names]


def sources():
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_no_module_imports_another_modules_private_names():
    known = {module_name(p) for p in sources()}
    offenders = []
    for path in sources():
        modules = set()
        for target, names in imports_of(path):
            offenders += [f"{module_name(path)}: from {target} import {n}" for n in names
                          if n.startswith("_") and not n.startswith("__")]
            modules |= {n for n in names if f"{target}.{n}" in known}
        offenders += [f"{module_name(path)}: {n.value.id}.{n.attr}" for n in ast.walk(ast.parse(path.read_text()))
                      if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in modules
                      and n.attr.startswith("_") and not n.attr.startswith("__")]
    assert offenders == []


def test_the_cases_modules_import_no_circle():
    """Imports inside functions count too: they hide a circle, they do not remove it."""
    graph = {}
    for path in (ROOT / "gridcase" / "cases").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        me = module_name(path)
        deps = set()
        for target, names in imports_of(path):
            for candidate in [target] + [f"{target}.{n}" for n in names]:
                if candidate.startswith("gridcase.cases") and candidate != me:
                    deps.add(candidate)
        graph[me] = deps
    known = set(graph)

    def resolve(dep):
        while dep not in known and "." in dep:
            dep = dep.rsplit(".", 1)[0]
        return dep if dep in known else None

    edges = {m: {d for d in map(resolve, deps) if d and d != m and not m.startswith(d + ".")}
             for m, deps in graph.items()}
    mine = {m for m in known if m.count(".") >= 2 and m.split(".")[2] in
            ("state", "rules", "sla", "sweep", "workflow", "services", "seeding", "tasks")}
    circles = []
    for start in sorted(mine):
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    circles.append(" → ".join(trail + [start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
    assert circles == []
