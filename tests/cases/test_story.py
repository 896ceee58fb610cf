"""The issue's "done when", through the API as the personas would do it."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from gridcase.cases import sweep
from gridcase.cases.models import Case, CaseDepartment, CaseHop, Category

from .conftest import assert_replays


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def photo():
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 200)).save(buf, "JPEG")
    buf.seek(0)
    buf.name = "after.jpg"
    return buf


def test_a_case_from_report_to_rating(city, client_for):
    worker, secretary, grid_worker = (client_for(u) for u in (city.worker, city.secretary, city.grid_worker))
    cat = Category.objects.get(code="env_drain")
    r = worker.post("/api/v1/cases/", {"category": cat.pk, "grid": city.micro.pk, "title": "3栋下水道堵塞",
                                       "description": "返水严重", "unit": city.unit.pk, "source": "patrol",
                                       "client_key": "a1b2"}, format="json")
    assert r.status_code == 201
    case = r.json()
    url = f"/api/v1/cases/{case['id']}/"

    def do(client, action, **data):
        current = client.get(url).json()
        assert action in current["allowed_actions"], (action, current["allowed_actions"])
        resp = client.post(f"{url}{action}/", {"version": current["version"], **data}, format="json")
        assert resp.status_code == 200, resp.content
        return resp.json()

    do(secretary, "accept")
    do(secretary, "assign", assignee=city.worker.pk)
    inbox = worker.get("/api/v1/notifications/").json()["results"]
    assert any(n["kind"] == "assigned" and n["case"] == case["id"] for n in inbox)
    do(worker, "start")
    att = worker.post(f"{url}attachments/", {"file": photo(), "kind": "after"}, format="multipart").json()
    do(worker, "resolve", note="已疏通下水道", photos=[att["id"]])
    do(grid_worker, "verify")
    do(secretary, "close")
    final = do(secretary, "callback", rating="satisfied", called_at=timezone.now().isoformat(), comment="回访：居民满意")
    assert final["status"] == "closed" and final["rating"] == "satisfied"
    events = secretary.get(f"{url}events/").json()["results"]
    assert [e["action"] for e in events] == ["create", "accept", "assign", "start", "attach", "resolve", "verify",
                                             "close", "callback"]
    assert_replays(Case.objects.get(pk=case["id"]))


def test_a_case_escalated_twice_and_whistled(city, make_case, client_for, act):
    case = make_case(cat=Category.objects.get(code="facility_leak"), title="屋顶漏水")
    assert act(city.worker, case, "escalate", reason="微网格无法处置").status_code == 200
    assert act(city.grid_worker, case, "escalate", reason="需社区协调").json()["owner_grid"] == city.community.pk
    assert act(city.secretary, case, "accept").status_code == 200
    report_by = (case.created_at + timedelta(days=1)).isoformat()
    r = act(city.secretary, case, "whistle", departments=[city.department.pk], report_by=report_by)
    assert r.status_code == 200
    officer = client_for(city.officer)
    assert [c["id"] for c in officer.get("/api/v1/cases/").json()["results"]] == [case.pk]
    assert act(city.officer, case, "report_in").status_code == 200
    assert act(city.officer, case, "reply", note="已安排维修队").status_code == 200
    assert act(city.secretary, case, "score_department", department=city.department.pk, score=5).status_code == 200
    link = CaseDepartment.objects.get(case=case)
    assert link.whistled_from_id == city.community.pk and link.score == 5
    levels = list(CaseHop.objects.filter(case=case, kind="grid").values_list("grid_level", flat=True))
    assert levels == ["micro_grid", "grid", "community"]
    assert_replays(case)


def test_an_idle_case_breaches_and_the_job_warns_marks_and_escalates_once(city, make_case, drive):
    case = drive(make_case(title="路灯不亮"), "accept", "assign")
    for when in (case.sla_yellow_at, case.sla_red_at):
        for _ in range(2):
            sweep.sweep(now=when + timedelta(seconds=30))
    case.refresh_from_db()
    assert case.owner_grid_id == city.grid.pk and case.escalation_count == 1
    kinds = list(city.worker.notifications.values_list("kind", flat=True))
    assert kinds.count("sla_yellow") == 1 and kinds.count("sla_red") == 1
    assert_replays(case)
