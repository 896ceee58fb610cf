"""Dedicated grids (a school) overlap the micro-grids of their community: both workers report naming the other's
grid, both see and act on the shared case, and filter by it (gridcase/cases/overlap.py)."""

import pytest

from gridcase.grids.choices import Level, Role

from .. import factories as f


@pytest.fixture
def school_worker(city):
    return f.member(f.UserFactory(username="school"), city.dedicated, Role.GRID_WORKER)


def _report(client_for, user, body):
    return client_for(user).post("/api/v1/cases/", {"title": "校门口积水", **body}, format="json")


def _ids(client, query=""):
    return [row["id"] for row in client.get(f"/api/v1/cases/{query}").json()["results"]]


def test_micro_grid_worker_names_the_school(city, client_for, category, school_worker):
    r = _report(client_for, city.worker, {"category": category.pk, "grid": city.micro.pk,
                                          "dedicated_grid": city.dedicated.pk, "unit": city.unit.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["grid"] == city.micro.pk and body["dedicated_grid"] == city.dedicated.pk
    for user in (city.worker, school_worker):
        assert body["id"] in _ids(client_for(user))
    assert body["id"] not in _ids(client_for(city.sibling_worker))


def test_school_worker_names_the_micro_grid_and_acts(city, client_for, category, school_worker, act):
    from gridcase.cases.models import Case

    r = _report(client_for, school_worker, {"category": category.pk, "grid": city.micro.pk,
                                            "dedicated_grid": city.dedicated.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["grid"] == city.micro.pk and body["dedicated_grid"] == city.dedicated.pk
    case = Case.objects.get(pk=body["id"])
    assert case.owner_grid_id == city.micro.pk
    for user in (school_worker, city.worker):
        seen = client_for(user).get(f"/api/v1/cases/{case.pk}/")
        assert seen.status_code == 200
    # The school's full-time worker counts like the micro-grid's staff on the shared case: accept is theirs.
    assert "accept" in client_for(school_worker).get(f"/api/v1/cases/{case.pk}/").json()["allowed_actions"]
    assert act(school_worker, case, "accept").status_code == 200
    # The school's worker may be assigned the shared case, and then starts it.
    picker = client_for(city.grid_worker).get(f"/api/v1/cases/{case.pk}/assignees/").json()["results"]
    assert school_worker.pk in [p["id"] for p in picker]
    assert act(city.grid_worker, case, "assign", assignee=school_worker.pk).status_code == 200
    assert act(school_worker, case, "start").status_code == 200
    # Worker-level actions for a micro-grid worker on the school too.
    micro_school = f.member(f.UserFactory(username="school2"), city.dedicated, Role.MICRO_GRID_WORKER)
    actions = client_for(micro_school).get(f"/api/v1/cases/{case.pk}/").json()["allowed_actions"]
    assert "escalate" in actions and "accept" not in actions


def test_school_counts_only_while_the_case_is_owned_where_it_happened(city, client_for, make_case, school_worker):
    case = make_case(reporter=city.worker, dedicated_grid=city.dedicated)
    case.owner_grid = city.grid  # sent up to the general grid: the micro-grid's and the school's workers step back
    case.save()
    body = client_for(school_worker).get(f"/api/v1/cases/{case.pk}/").json()
    assert "accept" not in body["allowed_actions"]


def test_school_worker_needs_the_school_named(city, client_for, category, school_worker):
    r = _report(client_for, school_worker, {"category": category.pk, "grid": city.micro.pk})
    assert r.status_code == 403, r.content


def test_school_worker_cannot_name_grids_of_another_community(city, client_for, category, school_worker):
    r = _report(client_for, school_worker, {"category": category.pk, "grid": city.other_micro.pk,
                                            "dedicated_grid": city.dedicated.pk})
    assert r.status_code == 400 and "grid" in r.json()["fields"]


def test_unrelated_dedicated_grid_is_refused(city, client_for, category):
    other_school = f.grid("ST-HH-D01", "和惠医院", Level.DEDICATED, city.other_community, kind="hospital")
    # Not in the micro-grid worker's communities: it does not exist for them.
    r = _report(client_for, city.worker, {"category": category.pk, "grid": city.micro.pk,
                                          "dedicated_grid": other_school.pk})
    assert r.status_code == 400 and "dedicated_grid" in r.json()["fields"]
    # Someone who sees both communities is told the rule.
    r = _report(client_for, city.dispatcher, {"category": category.pk, "grid": city.micro.pk,
                                              "dedicated_grid": other_school.pk})
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "dedicated_grid_elsewhere" and "dedicated_grid" in r.json()["fields"]
    # A general grid is not a dedicated grid.
    r = _report(client_for, city.worker, {"category": category.pk, "grid": city.micro.pk,
                                          "dedicated_grid": city.grid.pk})
    assert r.status_code == 400 and "dedicated_grid" in r.json()["fields"]


def test_filter_by_dedicated_grid(city, client_for, category, school_worker, make_case):
    shared = make_case(reporter=city.worker, dedicated_grid=city.dedicated)
    plain = make_case(reporter=city.worker)
    for user in (city.worker, school_worker, city.secretary):
        ids = _ids(client_for(user), f"?dedicated_grid={city.dedicated.pk}")
        assert shared.pk in ids and plain.pk not in ids
    assert plain.pk in _ids(client_for(city.worker))
    assert plain.pk not in _ids(client_for(school_worker))


def test_report_grids_offers_the_overlap(city, client_for, school_worker):
    mine = client_for(city.worker).get("/api/v1/cases/report-grids/")
    assert mine.status_code == 200, mine.content
    assert [g["id"] for g in mine.json()["dedicated"]] == [city.dedicated.pk]
    assert mine.json()["places"] == []
    school = client_for(school_worker).get("/api/v1/cases/report-grids/").json()
    assert [g["id"] for g in school["dedicated"]] == [city.dedicated.pk]
    places = {g["id"] for g in school["places"]}
    assert {city.grid.pk, city.micro.pk, city.sibling_micro.pk} <= places
    assert city.other_micro.pk not in places and city.dedicated.pk not in places
    assert client_for(city.outsider).get("/api/v1/cases/report-grids/").json()["dedicated"] == []
    assert client_for(city.worker).get("/api/v1/cases/report-grids/?x=1").status_code == 400
