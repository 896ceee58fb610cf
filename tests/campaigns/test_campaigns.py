"""Campaigns (专项排查): launch, routing, answers once, problems open cases, progress by grid, export, reminders."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from gridcase.campaigns import launching, reminders
from gridcase.campaigns.models import Campaign, CampaignTask
from gridcase.cases.models import Attachment, Case
from gridcase.notifications.models import Notification
from gridcase.points.models import PointEntry

from .conftest import CHECKLIST, body, good, task_of


def create_body(city, **kw):
    today = timezone.localdate()
    return {"name": "楼道充电排查", "grid": city.street.pk, "target": "household", "checklist": CHECKLIST,
            "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=7)).isoformat(), **kw}


def test_a_street_launches_a_campaign_over_two_communities(city, client_for, other_worker):
    client = client_for(city.dispatcher)
    r = client.post("/api/v1/campaigns/", create_body(city), format="json")
    assert r.status_code == 201, r.content
    cid = r.json()["id"]
    assert r.json()["status"] == "draft" and r.json()["owner"] == city.dispatcher.pk
    r = client.post(f"/api/v1/campaigns/{cid}/launch/")
    assert r.status_code == 202 and r.json()["status"] == "launching"
    assert client.post(f"/api/v1/campaigns/{cid}/launch/").json()["code"] == "already_launched"
    result = launching.run(cid)
    assert result["created"] == 3
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.status == "running" and campaign.total_tasks == 3 and campaign.tasks_created == 3
    routed = {t.household_id: t.worker_id for t in CampaignTask.objects.filter(campaign=campaign)}
    assert routed == {city.household.pk: city.worker.pk, city.sibling_household.pk: city.sibling_worker.pk,
                      city.other_household.pk: other_worker.pk}
    # Rerunning the job (a crash, a duplicate message) adds nothing.
    assert launching._insert(campaign, 0, 10**9) == 0
    assert launching.run(cid) == {"skipped": True}
    assert CampaignTask.objects.filter(campaign=campaign).count() == 3
    # Each worker heard once.
    assert Notification.objects.filter(dedupe_key=f"campaign:{cid}:launched").count() == 3


def test_targets_by_building_and_by_tagged_resident(city):
    today = timezone.localdate()
    for target, expected in (("building", {city.building.pk}), ("resident", {city.resident.pk})):
        campaign = Campaign.objects.create(name=target, grid=city.community, target=target, checklist=CHECKLIST,
                                           starts_on=today, ends_on=today)
        if target == "resident":
            from gridcase.grids.models import Tag

            campaign.tags.set(Tag.objects.filter(code="elderly_alone"))
        launching.request_launch(city.secretary, campaign)
        launching.run(campaign.pk)
        tasks = CampaignTask.objects.filter(campaign=campaign)
        assert {t.target_id for t in tasks} == expected
        assert {t.worker_id for t in tasks} == {city.worker.pk}  # the first unit's micro-grid; the care plan's


def test_a_target_outside_the_launchers_scope_is_refused(city, client_for):
    r = client_for(city.secretary).post("/api/v1/campaigns/", create_body(city, grid=city.other_community.pk),
                                        format="json")
    assert r.status_code == 400 and "grid" in r.json()["fields"]
    # A micro-grid worker may not launch campaigns at all.
    r = client_for(city.worker).post("/api/v1/campaigns/", create_body(city, grid=city.micro.pk), format="json")
    assert r.status_code == 403
    # The street's campaign is not the secretary's to launch.
    campaign = Campaign.objects.create(name="x", grid=city.street, target="household", checklist=CHECKLIST,
                                       starts_on=timezone.localdate(), ends_on=timezone.localdate())
    assert client_for(city.secretary).post(f"/api/v1/campaigns/{campaign.pk}/launch/").status_code == 403


@pytest.mark.parametrize("checklist", [[], [{"key": "a", "text": "x", "type": "date"}],
                                       [{"key": "a", "text": "x", "type": "choice", "choices": ["only"]}],
                                       [{"key": "a", "text": "x", "type": "yes_no", "problem": {"gt": 1}}]])
def test_a_malformed_checklist_is_a_clear_error(city, client_for, checklist):
    r = client_for(city.dispatcher).post("/api/v1/campaigns/", create_body(city, checklist=checklist), format="json")
    assert r.status_code == 400 and "checklist" in r.json()["fields"], r.content


@pytest.mark.parametrize("answers,field", [
    ({"charging": "yes", "exit": "畅通"}, "answers.charging"),
    ({"charging": False, "exit": "open"}, "answers.exit"),
    ({"charging": False, "exit": "畅通", "bikes": "three"}, "answers.bikes"),
    ({"exit": "畅通"}, "answers.charging"),
    ({"charging": False, "exit": "畅通", "colour": "red"}, "answers"),
])
def test_an_answer_of_the_wrong_type_is_refused(city, client_for, launched, answers, field):
    task = task_of(launched, city.household)
    r = client_for(city.worker).post(f"/api/v1/campaign-tasks/{task.pk}/answer/", body(answers), format="json")
    assert r.status_code == 400 and field in r.json()["fields"], r.content
    task.refresh_from_db()
    assert task.status == "pending"


def photo_file(name="p.jpg"):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def test_a_yes_opens_a_case_with_the_answer_and_the_photo(city, client_for, launched):
    task = task_of(launched, city.household)
    key = uuid.uuid4()
    import json

    r = client_for(city.worker).post(f"/api/v1/campaign-tasks/{task.pk}/answer/", {
        "client_uuid": str(key), "answers": json.dumps({"charging": True, "exit": "畅通", "note": "3楼"}),
        "photo_photo": photo_file()}, format="multipart")
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "problem" and r.json()["case_number"]
    case = Case.objects.get(pk=r.json()["case"])
    assert case.category.code == "safety_ebike" and case.household_id == city.household.pk
    assert "楼道内是否有电动车充电" in case.description and case.source == "patrol"
    assert Attachment.objects.filter(case=case).count() == 1
    assert r.json()["answers"]["photo"] is True


def test_a_replayed_offline_answer_is_stored_once(city, client_for, launched):
    task = task_of(launched, city.household)
    client = client_for(city.worker)
    sent = body(good(charging=True), key=uuid.uuid4())
    first = client.post(f"/api/v1/campaign-tasks/{task.pk}/answer/", sent, format="json")
    again = client.post(f"/api/v1/campaign-tasks/{task.pk}/answer/", sent, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case"] == again.json()["case"]
    assert Case.objects.filter(client_key=f"campaign-{sent['client_uuid']}").count() == 1
    assert PointEntry.objects.filter(rule="campaign_task_done", source_id=task.pk).count() == 1
    # Different content under the same uuid; a second answer under another uuid: conflicts, nothing changes.
    r = client.post(f"/api/v1/campaign-tasks/{task.pk}/answer/", {**sent, "answers": good()}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    r = client.post(f"/api/v1/campaign-tasks/{task.pk}/answer/", body(good()), format="json")
    assert r.status_code == 409 and r.json()["code"] == "already_answered"
    task.refresh_from_db()
    assert task.status == "problem" and task.answers["charging"] is True


def test_only_the_worker_or_staff_of_the_grid_answer(city, client_for, launched):
    task = task_of(launched, city.household)
    assert client_for(city.sibling_worker).post(f"/api/v1/campaign-tasks/{task.pk}/answer/", body(good()),
                                                format="json").status_code == 404
    assert client_for(city.outsider).post(f"/api/v1/campaign-tasks/{task.pk}/answer/", body(good()),
                                          format="json").status_code == 404
    assert client_for(city.grid_worker).post(f"/api/v1/campaign-tasks/{task.pk}/answer/", body(good()),
                                             format="json").status_code == 201


def test_the_phone_lists_my_tasks_in_walking_order(city, client_for, launched):
    from .. import factories as f

    later = f.household(city.unit, "001")
    CampaignTask.objects.create(campaign=launched, grid=city.micro, target_id=later.pk, household=later,
                                unit=city.unit, building=city.building, worker=city.worker)
    r = client_for(city.worker).get("/api/v1/campaign-tasks/", {"mine": "true", "campaign": launched.pk})
    assert r.status_code == 200
    assert [t["room"] for t in r.json()["results"]] == ["001", "101"]


def test_progress_by_grid_equals_the_task_list(city, client_for, launched):
    client = client_for(city.worker)
    client.post(f"/api/v1/campaign-tasks/{task_of(launched, city.household).pk}/answer/",
                body(good(charging=True)), format="json")
    client_for(city.sibling_worker).post(
        f"/api/v1/campaign-tasks/{task_of(launched, city.sibling_household).pk}/answer/", body(good()),
        format="json")
    street = client_for(city.dispatcher)
    r = street.get(f"/api/v1/campaigns/{launched.pk}/progress/")
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["totals"] == {"pending": 1, "done": 1, "problem": 1, "total": 3}
    rows = {row["grid"]["id"]: row for row in data["children"]}
    assert set(rows) == {city.community.pk, city.other_community.pk}
    for grid_id, row in rows.items():
        for status in ("pending", "done", "problem"):
            listed = street.get("/api/v1/campaign-tasks/", {"campaign": launched.pk, "within": grid_id,
                                                            "status": status}).json()["results"]
            assert len(listed) == row[status], (grid_id, status)
    # Drill down one level: the community's general grid, then its micro-grids.
    down = street.get(f"/api/v1/campaigns/{launched.pk}/progress/", {"grid": city.grid.pk}).json()
    assert {r["grid"]["id"]: (r["done"], r["problem"]) for r in down["children"]} == {
        city.micro.pk: (0, 1), city.sibling_micro.pk: (1, 0)}
    # The secretary sees her community only; the outsider does not see other rows.
    mine = client_for(city.secretary).get(f"/api/v1/campaigns/{launched.pk}/progress/",
                                          {"grid": city.community.pk}).json()
    assert mine["totals"]["total"] == 2
    assert client_for(city.secretary).get(f"/api/v1/campaigns/{launched.pk}/progress/",
                                          {"grid": city.other_community.pk}).status_code == 404


def test_export_of_the_results(city, client_for, launched):
    client_for(city.worker).post(f"/api/v1/campaign-tasks/{task_of(launched, city.household).pk}/answer/",
                                 body(good(note="=HYPERLINK(1)")), format="json")
    r = client_for(city.dispatcher).get(f"/api/v1/campaigns/{launched.pk}/export/")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(r.content)).active.values)
    assert len(rows) == 4 and "楼道内是否有电动车充电" in rows[0]
    assert any("'=HYPERLINK(1)" in (c or "") for row in rows for c in row if isinstance(c, str))


def test_reminders_before_the_deadline_once(city, launched):
    today = launched.ends_on - timedelta(days=1)
    assert reminders.remind(today) == 3
    assert reminders.remind(today) == 0
    assert reminders.remind(launched.ends_on - timedelta(days=5)) == 0


def test_a_closed_campaign_takes_no_answers(city, client_for, launched):
    assert client_for(city.dispatcher).post(f"/api/v1/campaigns/{launched.pk}/close/").status_code == 200
    r = client_for(city.worker).post(f"/api/v1/campaign-tasks/{task_of(launched, city.household).pk}/answer/",
                                     body(good()), format="json")
    assert r.status_code == 409 and r.json()["code"] == "campaign_not_running"


def test_a_launched_campaign_is_not_edited(city, client_for, launched):
    r = client_for(city.dispatcher).patch(f"/api/v1/campaigns/{launched.pk}/", {"name": "改"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "not_a_draft"


def test_refusals_speak_the_callers_language(city, client_for, launched):
    task = task_of(launched, city.household)
    zh = client_for(city.worker).post(f"/api/v1/campaign-tasks/{task.pk}/answer/", body({"exit": "畅通"}),
                                      format="json")
    assert zh.json()["message"] == "问题 charging 必须回答。"
    client = client_for(city.worker)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    en = client.post(f"/api/v1/campaign-tasks/{task.pk}/answer/", body({"exit": "畅通"}), format="json")
    assert en.json()["message"] == "Answer charging is required."


def test_progress_takes_a_fixed_number_of_queries(city, client_for, launched, django_assert_max_num_queries):
    client = client_for(city.dispatcher)
    with django_assert_max_num_queries(10):
        assert client.get(f"/api/v1/campaigns/{launched.pk}/progress/").status_code == 200
