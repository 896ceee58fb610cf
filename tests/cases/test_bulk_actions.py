"""Bulk actions (issue 12): `POST /cases/bulk/` applies one workflow action to each selected case on its own;
one result per case, a stale or out-of-scope case fails alone and is left untouched."""

import pytest

from gridcase.cases.models import Case, CaseEvent

pytestmark = pytest.mark.django_db


def pick(cases, stale=()):
    return [{"id": c.pk, "version": c.version - (1 if c.pk in stale else 0)} for c in cases]


def test_bulk_accept_reports_each_case_and_leaves_a_stale_one_unchanged(city, make_case, client_for):
    cases = [make_case(title=f"下水道堵塞{i}") for i in range(20)]
    stale = cases[7]
    r = client_for(city.secretary).post("/api/v1/cases/bulk/", {"action": "accept",
                                                                "cases": pick(cases, {stale.pk})}, format="json")
    assert r.status_code == 200, r.json()
    results = r.json()["results"]
    assert [x["id"] for x in results] == [c.pk for c in cases]
    assert sum(x["ok"] for x in results) == 19
    failed = [x for x in results if not x["ok"]]
    assert [(x["id"], x["code"]) for x in failed] == [(stale.pk, "conflict")] and failed[0]["message"]
    assert all(x["status"] == "accepted" and x["version"] == c.version + 1
               for x, c in zip(results, cases, strict=True) if x["ok"])
    assert Case.objects.get(pk=stale.pk).status == "reported"
    assert Case.objects.get(pk=stale.pk).version == stale.version
    assert CaseEvent.objects.filter(case__in=cases, action="accept").count() == 19
    assert not CaseEvent.objects.filter(case=stale, action="accept").exists()


def test_out_of_scope_and_refused_cases_fail_alone(city, make_case, client_for, drive):
    mine, accepted = make_case(), make_case()
    drive(accepted, "accept")
    accepted.refresh_from_db()
    theirs = make_case(reporter=city.outsider, grid=city.other_micro)
    r = client_for(city.secretary).post("/api/v1/cases/bulk/", {"action": "accept", "note": "收到",
                                                                "cases": pick([mine, theirs, accepted])},
                                        format="json")
    assert r.status_code == 200, r.json()
    assert [(x["id"], x["ok"], x.get("code")) for x in r.json()["results"]] == [
        (mine.pk, True, None), (theirs.pk, False, "not_found"), (accepted.pk, False, "invalid_transition")]
    assert Case.objects.get(pk=theirs.pk).status == "reported"


def test_bulk_assign_and_escalate(city, make_case, client_for, drive):
    a, b = make_case(), make_case()
    for c in (a, b):
        drive(c, "accept")
        c.refresh_from_db()
    client = client_for(city.secretary)
    r = client.post("/api/v1/cases/bulk/", {"action": "assign", "assignee": city.worker.pk, "cases": pick([a, b])},
                    format="json")
    assert r.status_code == 200, r.json()
    assert all(x["ok"] and x["status"] == "assigned" for x in r.json()["results"])
    assert set(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("assignee_id", flat=True)) == {city.worker.pk}
    outsider = client.post("/api/v1/cases/bulk/", {"action": "assign", "assignee": city.outsider.pk,
                                                   "cases": [{"id": a.pk, "version": a.version + 1}]}, format="json")
    assert outsider.status_code == 200
    assert not outsider.json()["results"][0]["ok"]
    for c in (a, b):
        c.refresh_from_db()
    r = client.post("/api/v1/cases/bulk/", {"action": "escalate", "reason": "需要街道协调", "cases": pick([a, b])},
                    format="json")
    assert r.status_code == 200, r.json()
    assert [x["ok"] for x in r.json()["results"]] == [True, True]
    assert CaseEvent.objects.filter(case__in=[a, b], action="escalate").count() == 2


@pytest.mark.parametrize("body", [
    {"action": "start", "cases": [{"id": 1, "version": 1}]},
    {"action": "accept", "cases": []},
    {"action": "accept", "cases": [{"id": 1, "version": 1}] * 2},
    {"action": "assign", "cases": [{"id": 1, "version": 1}]},
    {"action": "accept", "cases": [{"id": i, "version": 1} for i in range(1, 102)]},
    {"action": "accept", "cases": [{"id": "x", "version": 1}]},
])
def test_bad_requests_answer_400(city, client_for, body):
    r = client_for(city.secretary).post("/api/v1/cases/bulk/", body, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["code"]
