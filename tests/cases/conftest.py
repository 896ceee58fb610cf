"""Helpers for case tests: report a case as a persona, run an action through the API."""

import pytest

from gridcase.cases import services, workflow
from gridcase.cases.models import Category


def ensure_taxonomy():
    """Transactional tests flush the tables that the data migration filled; put the taxonomy back."""
    if not Category.objects.filter(code="env_drain").exists():
        from importlib import import_module

        from django.apps import apps

        import_module("gridcase.cases.migrations.0002_taxonomy").forwards(apps, None)
        import_module("gridcase.cases.migrations.0003_category_copy_levels").set_copies(apps, None)


@pytest.fixture
def category(db):
    ensure_taxonomy()
    return Category.objects.get(code="env_drain")


@pytest.fixture
def make_case(city, category):
    return case_maker(city, category)


def case_maker(city, category):
    """make(reporter=None, grid=None, cat=None, **fields): a case reported through the service."""

    def make(reporter=None, grid=None, cat=None, **kw):
        data = {"category": cat or category, "grid": grid or city.micro, "title": kw.pop("title", "下水道堵塞"),
                "description": kw.pop("description", "3栋门口下水道返水")}
        data.update(kw)
        return services.create_case(reporter or city.worker, data).case

    return make


@pytest.fixture
def act(client_for):
    """POST an action as `user`; returns the response. Uses the case's current version unless given."""
    return actor(client_for)


def actor(client_for):
    def run(user, case, action, version=None, **data):
        if version is None:
            case.refresh_from_db()
            version = case.version
        return client_for(user).post(f"/api/v1/cases/{case.pk}/{action}/", {"version": version, **data},
                                     format="json")

    return run


@pytest.fixture
def drive(city):
    """Move a case through the workflow with the domain function (no HTTP), as the usual personas."""
    return driver(city)


def driver(city):
    def go(case, *actions, assignee=None):
        steps = {
            "accept": (city.secretary, {}),
            "assign": (city.secretary, {"assignee": (assignee or city.worker).pk}),
            "start": (assignee or city.worker, {}),
            "resolve": (assignee or city.worker, {"note": "已疏通"}),
            "verify": (city.grid_worker, {}),
            "close": (city.secretary, {}),
        }
        for name in actions:
            user, data = steps[name]
            case.refresh_from_db()
            case = workflow.apply(case.pk, name, user, data, version=case.version)
        return case

    return go


def assert_replays(case):
    """The event-replay property: folding the case's events gives the stored state, and the hop ledger
    agrees (an active case has exactly one open grid hop, held by its owner grid)."""
    from gridcase.cases import state
    from gridcase.cases.choices import ACTIVE
    from gridcase.cases.models import Case, CaseEvent, CaseHop

    case = Case.objects.get(pk=case.pk)
    events = list(CaseEvent.objects.filter(case=case).order_by("id").values("action", "to_status", "version",
                                                                             "payload"))
    got = state.replay(events)
    stored = {"status": case.status, "owner_grid_id": case.owner_grid_id, "assignee_id": case.assignee_id,
              "rating": case.rating, "merged_into_id": case.merged_into_id, "sla_state": case.sla_state,
              "version": case.version,
              "departments": set(case.case_departments.values_list("department_id", flat=True))}
    assert got == stored, (case.number, [e["action"] for e in events])
    open_hops = list(CaseHop.objects.filter(case=case, kind="grid", ended_at__isnull=True)
                     .values_list("grid_id", flat=True))
    assert open_hops == ([case.owner_grid_id] if case.status in ACTIVE else [])
