"""Hotspots (未诉先办): the detection rules (K cases in D days per building, micro-grid or circle; rising week over
week), not below the thresholds, idempotent reruns, the scope of the API and opening one preventive case, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gridcase.cases import hotspots, services
from gridcase.cases.choices import HotspotKind, HotspotStatus
from gridcase.cases.models import Case, CaseEvent, Category, Hotspot
from gridcase.grids.models import Grid

NOW = timezone.now()


def report(city, code, days_ago, *, grid=None, building=None, lat=None, lng=None, title="飞线充电"):
    data = {"category": Category.objects.get(code=code), "grid": grid or city.micro, "title": title,
            "description": "巡查发现"}
    if building is not None:
        data["building"] = building
    if lat is not None:
        data["location"] = {"lat": lat, "lng": lng}
    worker = city.sibling_worker if (grid or city.micro).pk == city.sibling_micro.pk else city.worker
    return services.create_case(worker, data, now=NOW - timedelta(days=days_ago)).case


@pytest.fixture
def strict(settings):
    """Plain thresholds for every category: 3 cases in 30 days, 100 m; rising: at least 4 and twice last week."""
    settings.HOTSPOT_DEFAULTS = {"count": 3, "days": 30, "metres": 100, "rising_factor": 2.0, "rising_min": 4}
    settings.HOTSPOT_RULES = {}
    return settings


def kinds(found):
    return sorted((f.kind, f.count) for f in found)


def test_k_cases_in_one_building_within_d_days_make_a_building_hotspot(city, strict):
    cases = [report(city, "safety_wiring", d, building=city.building) for d in (20, 9, 2)]
    found = hotspots.detect(NOW)
    assert kinds(found) == [(HotspotKind.BUILDING, 3)]  # the micro-grid holds the same cases: not reported twice
    hotspot = found[0]
    assert hotspot.case_ids == {c.pk for c in cases}
    assert hotspot.building_id == city.building.pk and hotspot.grid_id == city.micro.pk  # all in one micro-grid
    assert hotspot.threshold == 3 and hotspot.window_days == 30


def test_below_the_threshold_or_outside_the_window_nothing(city, strict):
    report(city, "safety_wiring", 5, building=city.building)
    report(city, "safety_wiring", 1, building=city.building)
    report(city, "safety_wiring", 31, building=city.building)  # outside the 30 days
    report(city, "env_drain", 3, building=city.building)  # another category
    assert hotspots.detect(NOW) == []


def test_rejected_and_merged_cases_and_sensitive_categories_do_not_count(city, strict):
    for d in (3, 2):
        report(city, "safety_wiring", d, building=city.building)
    Case.objects.filter(pk=report(city, "safety_wiring", 1, building=city.building).pk).update(status="rejected")
    for d in (3, 2, 1):
        report(city, "care_mental", d, building=city.building)
    assert hotspots.detect(NOW) == []


def test_thresholds_per_category_from_settings(city, strict):
    for d in (4, 1):
        report(city, "safety_wiring", d, building=city.building)
    assert hotspots.detect(NOW) == []
    strict.HOTSPOT_RULES = {"safety_wiring": {"count": 2, "days": 7}}
    assert kinds(hotspots.detect(NOW)) == [(HotspotKind.BUILDING, 2)]
    strict.HOTSPOT_RULES = {"safety_wiring": {"count": 2, "days": 3}}  # the older one is outside 3 days
    assert hotspots.detect(NOW) == []


def test_micro_grid_hotspot_when_no_building_explains_it(city, strict):
    report(city, "env_drain", 6)
    report(city, "env_drain", 4)
    report(city, "env_drain", 2, building=city.building)
    found = hotspots.detect(NOW)
    assert kinds(found) == [(HotspotKind.MICRO_GRID, 3)]
    assert found[0].grid_id == city.micro.pk and found[0].key == f"grid:{city.micro.pk}"


def test_nearby_cluster_across_micro_grids(city, strict):
    strict.HOTSPOT_RULES = {"facility_road": {"rising_min": 99}}  # not the trend
    lat, lng = 30.6600, 104.0800
    report(city, "facility_road", 5, lat=lat, lng=lng)
    report(city, "facility_road", 3, lat=lat + 0.0003, lng=lng)  # ~33 m north
    report(city, "facility_road", 1, grid=city.sibling_micro, lat=lat, lng=lng + 0.0004)  # ~38 m east, next grid
    report(city, "facility_road", 2, grid=city.sibling_micro, lat=lat + 0.01, lng=lng)  # 1.1 km away
    found = hotspots.detect(NOW)
    assert kinds(found) == [(HotspotKind.NEARBY, 3)]
    assert found[0].metres == 100 and abs(found[0].lat - lat) < 0.001
    strict.HOTSPOT_RULES = {"facility_road": {"metres": 30, "rising_min": 99}}  # a smaller circle holds two only
    assert hotspots.detect(NOW) == []


def test_rising_week_over_week(city, strict):
    strict.HOTSPOT_RULES = {"env_rubbish": {"count": 99}}  # only the trend
    report(city, "env_rubbish", 10)  # last week: one
    for d, grid in ((6, city.micro), (4, city.sibling_micro), (2, city.micro), (1, city.sibling_micro)):
        report(city, "env_rubbish", d, grid=grid)
    found = hotspots.detect(NOW)
    assert kinds(found) == [(HotspotKind.RISING, 4)]
    rising = found[0]
    assert rising.grid_id == city.grid.pk and rising.previous_count == 1 and len(rising.case_ids) == 4


def test_not_rising_when_last_week_was_as_busy(city, strict):
    strict.HOTSPOT_RULES = {"env_rubbish": {"count": 99}}
    for d in (13, 12, 11, 6, 5, 3, 1):  # 3 the week before, 4 this week: not twice as many
        report(city, "env_rubbish", d)
    assert hotspots.detect(NOW) == []


def test_store_is_idempotent_and_ends_episodes(city, strict):
    cases = [report(city, "safety_wiring", d, building=city.building) for d in (12, 6, 2)]
    first = hotspots.run(NOW)
    assert (first.created, first.updated, first.cases_added) == (1, 0, 3)
    again = hotspots.run(NOW)
    assert (again.created, again.updated, again.ended, again.cases_added) == (0, 1, 0, 0)
    hotspot = Hotspot.objects.get()
    assert set(hotspot.cases.values_list("id", flat=True)) == {c.pk for c in cases}
    assert hotspot.current and hotspot.status == HotspotStatus.OPEN and hotspot.count == 3
    # a fourth case joins the same episode
    report(city, "safety_wiring", 0, building=city.building)
    later = hotspots.run(NOW + timedelta(minutes=1))
    assert (later.created, later.cases_added) == (0, 1)
    assert Hotspot.objects.get().count == 4
    # weeks later the cases have left the window: the episode ends, the row stays
    ended = hotspots.run(NOW + timedelta(days=40))
    assert ended.ended == 1 and not Hotspot.objects.get().current


# --- the API ----------------------------------------------------------------------------------------------------

@pytest.fixture
def hotspot(city, strict):
    for d in (12, 6, 2):
        report(city, "safety_wiring", d, building=city.building)
    hotspots.run(NOW)
    return Hotspot.objects.get()


def test_list_is_scoped_and_carries_the_cases(city, hotspot, client_for):
    body = client_for(city.secretary).get("/api/v1/hotspots/").json()
    [row] = body["results"]
    assert row["id"] == hotspot.pk and row["kind"] == "building" and row["building_name"] == city.building.name
    assert row["count"] == 3 and row["case_count"] == 3 and len(row["cases"]) == 3
    assert row["allowed_actions"] == ["open_case", "dismiss"] and row["preventive_case"] is None
    assert client_for(city.worker).get("/api/v1/hotspots/").json()["results"][0]["allowed_actions"] == []
    for outsider in (city.sibling_worker, city.outsider):
        assert client_for(outsider).get("/api/v1/hotspots/").json()["results"] == []
        assert client_for(outsider).get(f"/api/v1/hotspots/{hotspot.pk}/").status_code == 404
        assert client_for(outsider).post(f"/api/v1/hotspots/{hotspot.pk}/open_case/", {}, format="json").status_code == 404


def test_filters(city, hotspot, client_for):
    client = client_for(city.secretary)
    assert len(client.get("/api/v1/hotspots/", {"status": "open", "current": "true"}).json()["results"]) == 1
    assert client.get("/api/v1/hotspots/", {"kind": "rising"}).json()["results"] == []
    assert len(client.get("/api/v1/hotspots/", {"within": city.micro.pk}).json()["results"]) == 1
    assert client.get("/api/v1/hotspots/", {"within": city.sibling_micro.pk}).json()["results"] == []
    assert client.get("/api/v1/hotspots/", {"colour": "red"}).status_code == 400


def test_open_one_preventive_case_exactly_once(city, hotspot, client_for):
    client = client_for(city.secretary)
    answer = client.post(f"/api/v1/hotspots/{hotspot.pk}/open_case/", {}, format="json")
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(pk=answer.json()["id"])
    assert case.category.code == "safety_wiring" and case.building_id == city.building.pk
    assert case.grid_id == city.micro.pk and case.reporter_id == city.secretary.pk
    assert case.title == f"未诉先办：{city.building.name}私拉电线（飞线）反复发生" and "30天内3件" in case.description
    assert CaseEvent.objects.get(case=case, action="create").payload["channel"] == "hotspot"
    for number in Case.objects.filter(hotspots=hotspot).values_list("number", flat=True):
        assert number in case.description
    hotspot.refresh_from_db()
    assert hotspot.preventive_case_id == case.pk and hotspot.status == HotspotStatus.HANDLED
    again = client.post(f"/api/v1/hotspots/{hotspot.pk}/open_case/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "hotspot_already_opened"
    assert Case.objects.filter(category__code="safety_wiring").count() == 4
    detail = client.get(f"/api/v1/hotspots/{hotspot.pk}/").json()
    assert detail["preventive_case"]["id"] == case.pk and detail["allowed_actions"] == []
    # the preventive case is not counted as one more recurrence
    assert hotspots.run(NOW).cases_added == 0 and Hotspot.objects.get().count == 3


def test_a_worker_who_sees_it_may_not_open_or_dismiss(city, hotspot, client_for):
    client = client_for(city.worker)
    refused = client.post(f"/api/v1/hotspots/{hotspot.pk}/open_case/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert client.post(f"/api/v1/hotspots/{hotspot.pk}/dismiss/", {}, format="json").status_code == 403
    assert not Hotspot.objects.get().preventive_case_id


def test_dismiss(city, hotspot, client_for):
    client = client_for(city.secretary)
    answer = client.post(f"/api/v1/hotspots/{hotspot.pk}/dismiss/", {}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "dismissed"
    again = client.post(f"/api/v1/hotspots/{hotspot.pk}/dismiss/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_the_beat_job_is_declared_and_runs(city, strict):
    from gridcase.beat import BEAT_SCHEDULE
    from gridcase.cases.tasks import detect_hotspots

    assert BEAT_SCHEDULE["detect-hotspots"]["task"] == detect_hotspots.name
    for d in (3, 2, 1):
        report(city, "safety_wiring", d, building=city.building)
    assert "1 new" in detect_hotspots()
    assert "0 new" in detect_hotspots()


def test_a_rising_hotspot_opens_its_case_at_the_general_grid(city, strict, client_for):
    strict.HOTSPOT_RULES = {"env_rubbish": {"count": 99}}
    for d in (6, 4, 2, 1):
        report(city, "env_rubbish", d, grid=city.sibling_micro if d % 2 else city.micro)
    hotspots.run(NOW)
    hotspot = Hotspot.objects.get(kind=HotspotKind.RISING)
    answer = client_for(city.secretary).post(f"/api/v1/hotspots/{hotspot.pk}/open_case/", {"priority": "high"},
                                             format="json")
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(pk=answer.json()["id"])
    assert case.grid_id == Grid.objects.get(pk=city.grid.pk).pk and case.priority == "high"


def test_every_hotspot_gets_a_point_for_the_map(city, strict):
    for d, dlat in ((6, 0.0), (4, 0.0002), (2, 0.0004)):
        report(city, "env_drain", d, building=city.building, lat=30.66 + dlat, lng=104.08)
    [found] = hotspots.detect(NOW)
    assert found.kind == HotspotKind.BUILDING and abs(found.lat - 30.6602) < 1e-9 and found.lng == pytest.approx(104.08)


def test_a_nearby_cluster_across_a_cell_line_is_found(city, strict):
    import math

    strict.HOTSPOT_RULES = {"facility_road": {"rising_min": 99}}
    line = (math.floor(30.66 * hotspots.M_PER_DEG / 100) + 1) * 100 / hotspots.M_PER_DEG  # a cell's edge
    for d, offset in ((5, -0.0002), (3, 0.0001), (1, 0.0002)):  # within 45 m, on both sides of the line
        report(city, "facility_road", d, lat=line + offset, lng=104.08, grid=city.micro if d > 1 else city.sibling_micro)
    assert kinds(hotspots.detect(NOW)) == [(HotspotKind.NEARBY, 3)]
