"""Reporting cases (idempotent on client_key, numbered per community and year, skip rules), editing them,
and the list's filters."""

from datetime import timedelta

from django.utils import timezone

from gridcase.cases.models import Case, CaseDepartment, CaseEvent, CaseNumberSequence, Category
from gridcase.grids.models import Department

URL = "/api/v1/cases/"


def payload(city, category, **kw):
    return {"category": category.pk, "grid": city.micro.pk, "title": "楼道堆物", "description": "三楼堆满纸箱",
            **kw}


def test_report_a_case(city, client_for, category):
    r = client_for(city.worker).post(URL, payload(city, category, location={"lat": 30.6, "lng": 104.1},
                                                  unit=city.unit.pk, source="patrol", scope="building"),
                                     format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    year = timezone.localtime().year
    assert body["number"] == f"{year}-BLZ-000001"
    assert body["status"] == "reported" and body["owner_grid"] == city.micro.pk
    assert body["location"] == {"lat": 30.6, "lng": 104.1} and body["building"] == city.building.pk
    assert body["deadlines"]["accept_by"] and body["deadlines"]["handle_by"] is None
    assert body["sla_state"] == "ok" and body["version"] == 1
    for key in ("id", "number", "title", "description", "category", "grid", "owner_grid", "scope", "priority",
                "source", "status", "assignee", "departments", "building", "unit", "household", "resident",
                "location", "version", "deadlines", "sla_state", "allowed_actions", "created_at", "updated_at"):
        assert key in body, key
    second = client_for(city.worker).post(URL, payload(city, category), format="json").json()
    assert second["number"] == f"{year}-BLZ-000002"
    other = client_for(city.outsider).post(URL, payload(city, category, grid=city.other_micro.pk),
                                           format="json").json()
    assert other["number"] == f"{year}-HH-000001"


def test_same_client_key_twice_gives_the_same_case(city, client_for, category):
    c = client_for(city.worker)
    first = c.post(URL, payload(city, category, client_key="phone-abc-1"), format="json")
    again = c.post(URL, payload(city, category, client_key="phone-abc-1"), format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1
    changed = c.post(URL, payload(city, category, client_key="phone-abc-1", title="别的事"), format="json")
    assert changed.status_code == 409 and changed.json()["code"] == "conflict"
    # another reporter may use the same key for their own case
    assert client_for(city.grid_worker).post(URL, payload(city, category, client_key="phone-abc-1"),
                                             format="json").status_code == 201
    assert Case.objects.count() == 2


def test_bad_input_is_refused_with_fields(city, client_for, category):
    c = client_for(city.worker)
    r = c.post(URL, {"grid": city.micro.pk}, format="json")
    assert r.status_code == 400 and {"category", "title"} <= set(r.json()["fields"])
    r = c.post(URL, payload(city, category, location={"lat": 200, "lng": 1}), format="json")
    assert r.status_code == 400 and "location" in r.json()["fields"]
    r = c.post(URL, payload(city, category, unit=city.sibling_unit.pk), format="json")
    assert r.status_code == 400 and "unit" in r.json()["fields"]
    r = c.post(URL, payload(city, category, household=city.household.pk, resident=city.sibling_resident.pk),
               format="json")
    assert r.status_code == 400
    r = c.post(URL, payload(city, category, priority="whenever"), format="json")
    assert r.status_code == 400
    assert Case.objects.count() == 0 and CaseNumberSequence.objects.count() == 0


def test_skip_rule_sends_a_gas_leak_straight_to_the_street_and_the_gas_company(city, client_for):
    gas_co = Department.objects.create(code="gas", name="燃气公司", kind="gas", area=city.street)
    gas = Category.objects.get(code="safety_gas")
    r = client_for(city.worker).post(URL, payload(city, gas, title="楼道有燃气味"), format="json")
    body = r.json()
    assert body["priority"] == "urgent" and body["owner_grid"] == city.street.pk and body["grid"] == city.micro.pk
    assert [d["id"] for d in body["departments"]] == [gas_co.pk]
    assert CaseDepartment.objects.get(case_id=body["id"]).report_by
    # a low-priority report of the same category stays in the micro-grid
    r = client_for(city.worker).post(URL, payload(city, gas, title="燃气表箱门坏", priority="normal"),
                                     format="json")
    assert r.json()["owner_grid"] == city.micro.pk and r.json()["departments"] == []


def test_skip_rule_copies_the_micro_grid_and_community_it_lifted_the_case_above(city, client_for):
    """The street owns an urgent gas leak; the community secretary and the grid's staff are told (抄送)."""
    from gridcase.cases.models import CaseEvent
    from gridcase.notifications.models import Notification

    gas = Category.objects.get(code="safety_gas")
    body = client_for(city.worker).post(URL, payload(city, gas, title="楼道有燃气味"), format="json").json()
    created = CaseEvent.objects.get(case_id=body["id"], action="create")
    assert created.payload["copied_grids"] == [city.community.pk, city.micro.pk]
    told = set(Notification.objects.filter(case_id=body["id"]).values_list("recipient__username", flat=True))
    # community secretary, the staff over the micro-grid (its grid worker), and the owning street
    assert {"secretary", "gridworker", "dispatcher"} <= told
    assert "outsider" not in told
    # Copied grids see the case (it lies in their subtree).
    assert client_for(city.secretary).get(f"{URL}{body['id']}/").status_code == 200
    # No skip, no copy.
    plain = client_for(city.worker).post(URL, payload(city, gas, title="燃气表箱门坏", priority="normal"),
                                         format="json").json()
    assert "copied_grids" not in CaseEvent.objects.get(case_id=plain["id"], action="create").payload


def test_patch_title_priority_with_version(city, make_case, client_for):
    case = make_case()
    c = client_for(city.secretary)
    r = c.patch(f"{URL}{case.pk}/", {"version": 1, "title": "下水道严重返水", "priority": "high"}, format="json")
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["priority"] == "high"
    r = c.patch(f"{URL}{case.pk}/", {"version": 1, "title": "x"}, format="json")
    assert r.status_code == 409 and r.json()["current"]["title"] == "下水道严重返水"
    r = c.patch(f"{URL}{case.pk}/", {"version": 2, "status": "closed"}, format="json")
    assert r.status_code == 400
    r = client_for(city.viewer).patch(f"{URL}{case.pk}/", {"version": 2, "title": "x"}, format="json")
    assert r.status_code == 403
    r = client_for(city.outsider).patch(f"{URL}{case.pk}/", {"version": 2, "title": "x"}, format="json")
    assert r.status_code == 404
    case.refresh_from_db()
    assert case.title == "下水道严重返水" and case.status == "reported"
    assert CaseEvent.objects.filter(case=case, action="edit").count() == 1


def test_list_filters(city, make_case, client_for, drive):
    drain = make_case()
    leak = make_case(cat=Category.objects.get(code="facility_leak"), title="屋顶漏水", priority="high",
                     source="resident")
    parking = make_case(cat=Category.objects.get(code="dispute_parking"), title="车位被占", grid=city.sibling_micro,
                        reporter=city.sibling_worker)
    drive(leak, "accept", "assign")
    c = client_for(city.secretary)

    def ids(**params):
        r = c.get(URL, params)
        assert r.status_code == 200, r.content
        return {row["id"] for row in r.json()["results"]}

    assert ids() == {drain.pk, leak.pk, parking.pk}
    assert ids(status="assigned") == {leak.pk}
    assert ids(status="reported,assigned") == {drain.pk, leak.pk, parking.pk}
    assert c.get(URL, {"status": "bogus"}).status_code == 400
    assert ids(category=Category.objects.get(code="dispute").pk) == {parking.pk}
    assert ids(within=city.sibling_micro.pk) == {parking.pk}
    assert ids(within=city.grid.pk) == {drain.pk, leak.pk, parking.pk}
    assert ids(priority="high") == {leak.pk}
    assert ids(source="resident") == {leak.pk}
    assert ids(q="车位") == {parking.pk}
    assert ids(q=drain.number) == {drain.pk}
    assert client_for(city.worker).get(URL, {"assignee": "me"}).json()["results"][0]["id"] == leak.pk
    assert ids(assignee="me") == set()
    Case.objects.filter(pk=drain.pk).update(sla_red_at=timezone.now() - timedelta(minutes=1))
    assert ids(overdue="true") == {drain.pk}
    assert drain.pk not in ids(overdue="false")
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    assert ids(created_after=tomorrow) == set()
    assert ids(created_before=tomorrow) == {drain.pk, leak.pk, parking.pk}


def test_cursor_pagination_is_stable_and_newest_first(city, make_case, client_for):
    made = [make_case(title=f"事件{i}") for i in range(7)]
    c = client_for(city.secretary)
    page = c.get(URL, {"page_size": 3}).json()
    seen = [row["id"] for row in page["results"]]
    make_case(title="新插入")  # inserting while paging does not shift the next page
    while page["next"]:
        page = c.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert seen == sorted((m.pk for m in made), reverse=True)


def test_categories_in_tree_order_and_templates(city, client_for):
    c = client_for(city.worker)
    rows = c.get("/api/v1/categories/").json()
    codes = [r["code"] for r in rows]
    assert codes.index("dispute") < codes.index("dispute_parking") < codes.index("safety")
    by_code = {r["code"]: r for r in rows}
    assert by_code["dispute_parking"]["depth"] == 1 and by_code["dispute_parking"]["parent"] == by_code["dispute"]["id"]
    assert by_code["care_domestic_violence"]["sensitive"] is True
    assert by_code["safety_wiring"]["name_en"].startswith("Illegal wiring")
    parking = by_code["dispute_parking"]["id"]
    templates = c.get("/api/v1/response-templates/", {"category": parking, "status": "in_progress"}).json()
    assert [t["title"] for t in templates] == ["停车协商"]
    general = c.get("/api/v1/response-templates/", {"category": parking, "status": "reported"}).json()
    assert [t["title"] for t in general] == ["已受理告知"]


def test_numbers_stay_unique_when_community_codes_end_alike(city, client_for, category):
    from gridcase.grids.choices import Level, Role

    from ..factories import grid as make_grid
    from ..factories import member

    other_street = make_grid("ST2", "二街道", Level.STREET)
    twin = make_grid("ST2-BLZ", "另一个八里庄", Level.COMMUNITY, other_street)
    twin_grid = make_grid("ST2-BLZ-G01", "一网格", Level.GRID, twin)
    twin_micro = make_grid("ST2-BLZ-G01-M01", "一微网格", Level.MICRO_GRID, twin_grid)
    member(city.admin, twin, Role.SECRETARY)
    a = client_for(city.worker).post(URL, payload(city, category), format="json").json()["number"]
    b = client_for(city.admin).post(URL, payload(city, category, grid=twin_micro.pk), format="json").json()["number"]
    year = timezone.localtime().year
    assert a == f"{year}-STBLZ-000001" and b == f"{year}-ST2BLZ-000001"
