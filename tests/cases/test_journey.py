"""The case's journey: the hop ledger on the case detail, and the median hold time per level in the stats."""

from datetime import timedelta

from django.utils import timezone

from gridcase.cases.models import Case, CaseHop
from gridcase.stats import holds


def test_the_detail_carries_the_ledger_without_a_query_more(city, make_case, act, drive, client_for,
                                                               django_assert_max_num_queries):
    case = drive(make_case(), "accept")
    body = act(city.worker, case, "escalate", reason="需要社区协调").json()
    assert [h["grid_level"] for h in body["hops"]] == ["micro_grid", "grid"]  # the action's answer has them too
    client = client_for(city.secretary)
    with django_assert_max_num_queries(8):
        r = client.get(f"/api/v1/cases/{case.pk}/")
    hops = r.json()["hops"]
    assert [(h["kind"], h["grid"], h["open"]) for h in hops] == [("grid", city.micro.pk, False),
                                                                 ("grid", city.grid.pk, True)]
    first = hops[0]
    assert first["grid_name"] == city.micro.name and first["start_action"] == "create"
    assert first["end_action"] == "escalate" and first["ended_at"] and first["held_seconds"] >= 0
    # lists stay as they were: no ledger
    listed = client.get("/api/v1/cases/").json()["results"]
    assert listed and all(c["hops"] is None for c in listed)


def test_median_hold_time_per_level(city, make_case, client_for):
    now = timezone.now()
    cases = [make_case() for _ in range(3)]
    CaseHop.objects.filter(case__in=cases).delete()
    for case, hours in zip(cases, (1, 3, 8), strict=True):
        # reported when its first hop started, as a report stamps both (hold times rely on it)
        Case.objects.filter(pk=case.pk).update(created_at=now - timedelta(hours=hours + 1))
        CaseHop.objects.create(case=case, kind="grid", grid=city.micro, grid_level="micro_grid", start_action="create",
                               started_at=now - timedelta(hours=hours + 1), ended_at=now - timedelta(hours=1),
                               end_action="escalate")
        CaseHop.objects.create(case=case, kind="grid", grid=city.grid, grid_level="grid", start_action="escalate",
                               started_at=now - timedelta(hours=1))
    holds.rebuild()  # the hops that ended are read from their rollup (refreshed with the case rollups)
    client = client_for(city.secretary)
    r = client.get("/api/v1/stats/hold-times/", {"grid": city.community.pk})
    assert r.status_code == 200, r.content
    rows = {row["level"]: row for row in r.json()["results"]}
    # 1, 3 and 8 hours: the median from the hourly buckets, as every dashboard median (at most half a bucket off)
    assert rows["micro_grid"] == {"level": "micro_grid", "hops": 3, "waiting": 0, "median_hours": 3.5}
    assert rows["grid"]["hops"] == 0 and rows["grid"]["waiting"] == 3 and rows["grid"]["median_hours"] is None
    # another community's cases are not counted; out of scope is 404; a bad period is 400
    other = client_for(city.outsider).get("/api/v1/stats/hold-times/").json()["results"]
    assert all(row["hops"] == 0 for row in other if row["level"] == "micro_grid")
    assert client.get("/api/v1/stats/hold-times/", {"grid": city.other_community.pk}).status_code == 404
    r = client.get("/api/v1/stats/hold-times/", {"from": "2026-02-01", "to": "2026-01-01"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_period"
