"""Helpers for case tests: report a case as a persona, run an action through the API."""

import pytest

from gridcase.cases import services, workflow
from gridcase.cases.models import Category


@pytest.fixture
def category(db):
    return Category.objects.get(code="env_drain")


@pytest.fixture
def make_case(city, category):
    def make(reporter=None, grid=None, cat=None, **kw):
        data = {"category": cat or category, "grid": grid or city.micro, "title": kw.pop("title", "下水道堵塞"),
                "description": kw.pop("description", "3栋门口下水道返水")}
        data.update(kw)
        return services.create_case(reporter or city.worker, data).case

    return make


@pytest.fixture
def act(client_for):
    """POST an action as `user`; returns the response. Uses the case's current version unless given."""

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
