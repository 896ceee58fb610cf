"""The secretary's queues (`GET /api/v1/cases/queues/`): one query, each count equal to the length of the case
list its `filter` gives, within the caller's scope."""

import pytest
from django.utils import timezone

from gridcase.cases.choices import SlaState, Status
from gridcase.cases.models import Case, CaseDepartment

URL = "/api/v1/cases/queues/"


@pytest.fixture
def queued(city, make_case):
    cases = [make_case() for _ in range(7)]
    now = timezone.now()
    Case.objects.filter(pk__in=[c.pk for c in cases[1:3]]).update(status=Status.ASSIGNED, sla_state=SlaState.RED)
    Case.objects.filter(pk=cases[3].pk).update(status=Status.IN_PROGRESS, sla_state=SlaState.YELLOW)
    Case.objects.filter(pk=cases[4].pk).update(status=Status.RESOLVED, sla_state=SlaState.RED)
    Case.objects.filter(pk=cases[5].pk).update(status=Status.CLOSED, sla_state=SlaState.RED)
    CaseDepartment.objects.create(case=cases[1], department=city.department, whistled_at=now, report_by=now)
    CaseDepartment.objects.create(case=cases[3], department=city.department, whistled_at=now, report_by=now,
                                  reported_in_at=now)
    return cases


def listed(client, params) -> int:
    n, url, query = 0, "/api/v1/cases/", params
    while url:
        body = client.get(url, query).json()
        n += len(body["results"])
        url, query = body.get("next"), None
    return n


def test_counts_equal_their_lists(queued, city, client_for, django_assert_max_num_queries):
    client = client_for(city.secretary)
    with django_assert_max_num_queries(3):  # the caller's scope (grids, departments), the aggregate
        response = client.get(URL)
    assert response.status_code == 200, response.content
    counts = {q["key"]: q["count"] for q in response.json()}
    assert counts == {"new": 2, "sla": 3, "verification": 1, "report_in": 1}
    for queue in response.json():
        assert listed(client, queue["filter"]) == queue["count"], queue


def test_scope(queued, city, client_for):
    response = client_for(city.outsider).get(URL)
    assert response.status_code == 200
    assert all(q["count"] == 0 for q in response.json())


def test_awaiting_report_in_filter(queued, city, client_for):
    client = client_for(city.secretary)
    assert {c["id"] for c in client.get("/api/v1/cases/", {"awaiting_report_in": "true"}).json()["results"]} \
        == {queued[1].pk}
    assert queued[1].pk not in {c["id"] for c in client.get("/api/v1/cases/", {"awaiting_report_in": "false"})
                                .json()["results"]}


def test_unknown_parameter(city, client_for):
    assert client_for(city.secretary).get(URL, {"bogus": 1}).status_code == 400
