"""Issue 11 item 3's last gap: a merged case lists its duplicates, and the residents who reported a duplicate
follow the kept case's progress through their own tracking codes (status, public replies; the rating stays the
kept case's reporter's)."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from gridcase.cases.models import Case, Category
from gridcase.intake.models import IntakeTicket

from .test_intake import act, report, url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon(client_for):
    return client_for(None)


def submit(anon, grid, key, **kw):
    r = anon.post(url(grid), report(client_key=key, **kw), format="json")
    assert r.status_code == 201, r.json()
    code = r.json()["code"]
    return code, IntakeTicket.objects.get(code=code).case_id


def merged_pair(city, anon):
    kept_code, kept = submit(anon, city.micro, "k-kept")
    dup_code, dup = submit(anon, city.micro, "k-dup", description="3栋门口下水道又冒水了，味道很大")
    act(kept, "accept", city.grid_worker)
    act(dup, "merge", city.grid_worker, into=kept)
    return kept_code, kept, dup_code, dup


def test_the_kept_case_lists_its_duplicates_to_staff_who_see_them(city, anon, client_for):
    _kc, kept, _dc, dup = merged_pair(city, anon)
    body = client_for(city.grid_worker).get(f"/api/v1/cases/{kept}/").json()
    assert [d["id"] for d in body["duplicates"]] == [dup]
    row = body["duplicates"][0]
    assert set(row) == {"id", "number", "title", "created_at", "source"}
    assert row["source"] == "resident" and row["title"].startswith("3栋门口下水道又冒水了") and row["number"]
    assert row["created_at"].startswith(str(body["created_at"])[:10])
    # The duplicate itself has none; lists carry none (null, as the hop ledger).
    assert client_for(city.grid_worker).get(f"/api/v1/cases/{dup}/").json()["duplicates"] == []
    listed = client_for(city.grid_worker).get("/api/v1/cases/").json()["results"]
    assert all(c["duplicates"] is None for c in listed)


def test_duplicates_outside_the_callers_scope_are_not_listed(city, anon, client_for):
    _kc, kept, _dc, dup = merged_pair(city, anon)
    # The duplicate lies in another community the grid worker cannot see; the kept case stays visible to them.
    Case.objects.filter(pk=dup).update(grid=city.other_micro, owner_grid=city.other_micro, dedicated_grid=None)
    assert client_for(city.grid_worker).get(f"/api/v1/cases/{kept}/").json()["duplicates"] == []
    assert [d["id"] for d in client_for(city.admin).get(f"/api/v1/cases/{kept}/").json()["duplicates"]] == [dup]


def test_the_detail_query_count_holds_with_duplicates(city, anon, client_for, django_assert_max_num_queries):
    _kc, kept, _dc, _dup = merged_pair(city, anon)
    submit(anon, city.micro, "k-dup2")
    dup2 = IntakeTicket.objects.get(client_key="k-dup2").case_id
    act(dup2, "merge", city.grid_worker, into=kept)
    c = client_for(city.secretary)
    with django_assert_max_num_queries(8):
        r = c.get(f"/api/v1/cases/{kept}/")
    assert r.status_code == 200 and len(r.json()["duplicates"]) == 2


def test_a_merged_reporter_tracks_the_kept_case(city, anon):
    kept_code, kept, dup_code, dup = merged_pair(city, anon)
    track = anon.get(f"/api/v1/intake/track/{dup_code}/").json()
    assert track["merged"] is True and track["status"] == "accepted" and track["number"] != ""
    # Their own report's title stays theirs; the kept case's resident's words are never shown.
    assert track["title"].startswith("3栋门口下水道又冒水了") and "楼下下水道堵了" not in str(track)

    act(kept, "assign", city.grid_worker, assignee=city.worker.pk)
    act(kept, "start", city.worker)
    act(kept, "resolve", city.worker, note="内部：已疏通主管道", public_reply="已疏通，请放心使用")
    track = anon.get(f"/api/v1/intake/track/{dup_code}/").json()
    assert track["status"] == "resolved" and [r["text"] for r in track["replies"]] == ["已疏通，请放心使用"]
    assert "内部" not in str(track)
    actions = [e["action"] for e in track["timeline"]]
    assert actions[:2] == ["create", "merge"] and actions[-3:] == ["assign", "start", "resolve"]

    act(kept, "verify", city.grid_worker)
    act(kept, "close", city.grid_worker)
    track = anon.get(f"/api/v1/intake/track/{dup_code}/").json()
    assert track["status"] == "closed" and track["closed_at"] and track["can_rate"] is False

    # Only the kept case's reporter rates it; the merged reporter's rating is refused and changes nothing.
    r = anon.post(f"/api/v1/intake/track/{dup_code}/rate/", {"rating": "dissatisfied"}, format="json")
    assert r.status_code == 409
    kept_track = anon.get(f"/api/v1/intake/track/{kept_code}/").json()
    assert kept_track["can_rate"] is True and kept_track["merged"] is False
    r = anon.post(f"/api/v1/intake/track/{kept_code}/rate/", {"rating": "satisfied"}, format="json")
    assert r.status_code == 200, r.json()
    assert anon.get(f"/api/v1/intake/track/{dup_code}/").json()["rating"] is None


# --- the 12345 hotline: a merged ticket is called back at the kept case's stages ----------------------------------

def hotline_callbacks(ticket_id):
    from gridcase.notifications.models import Notification

    rows = Notification.objects.filter(dedupe_key__startswith=f"hotline:{ticket_id}:").order_by("id")
    return [r.payload for r in rows]


def test_a_merged_hotline_ticket_hears_of_the_kept_case(city, anon, settings, django_capture_on_commit_callbacks):
    from gridcase.interop import hotline
    from gridcase.interop.models import HotlineCategory

    from ..interop.test_hotline import SECRET, push, ticket

    settings.HOTLINE_SECRET, settings.HOTLINE_CALLBACK_URL, settings.HOTLINE_AREA = SECRET, "", ""
    HotlineCategory.objects.create(code="0301", name="楼道堆物", category=Category.objects.get(code="env_stairwell"))
    kept_id = Case.objects.get(number=push(anon, ticket(grid_code=city.micro.code)).json()["case_number"]).pk
    r = push(anon, ticket(grid_code=city.micro.code, ticket_id="GD20261202-0002", content="1单元楼道纸箱又堆满了"))
    dup_id = Case.objects.get(number=r.json()["case_number"]).pk
    kept_number = Case.objects.get(pk=kept_id).number

    with django_capture_on_commit_callbacks(execute=True):
        act(kept_id, "accept", city.grid_worker)
    with django_capture_on_commit_callbacks(execute=True):
        act(dup_id, "merge", city.grid_worker, into=kept_id)
    # Merged into a case already taken on: the caller hears "accepted", from the kept case.
    dup = hotline_callbacks("GD20261202-0002")
    assert [c["stage"] for c in dup] == ["accepted"]
    assert dup[0]["merged_into"] == kept_number and dup[0]["status"] == "accepted"

    steps = [("assign", city.grid_worker, {"assignee": city.worker.pk}), ("start", city.worker, {}),
             ("resolve", city.worker, {"note": "纸箱已清走"}), ("verify", city.grid_worker, {}),
             ("close", city.grid_worker, {})]
    for action, user, data in steps:
        with django_capture_on_commit_callbacks(execute=True):
            act(kept_id, action, user, **data)
    with django_capture_on_commit_callbacks(execute=True):
        act(kept_id, "callback", city.grid_worker, rating="satisfied", called_at=timezone.now().isoformat(),
            comment="挺满意")

    assert [c["stage"] for c in hotline_callbacks("GD20261202-0001")] == [
        "accepted", "replied", "resolved", "closed", "rating"]
    dup = hotline_callbacks("GD20261202-0002")
    # Every stage once; the rating is the kept case's caller's, not this caller's.
    assert [c["stage"] for c in dup] == ["accepted", "replied", "resolved", "closed"]
    assert all(c["merged_into"] == kept_number and c["case_number"] != kept_number for c in dup)
    assert dup[-1]["status"] == "closed" and dup[-1]["outcome"] == "closed"
    assert hotline.sync_case(dup_id) == 0 and hotline.sync_recent() == 0
