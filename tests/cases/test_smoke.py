from django.utils import timezone


def test_happy_path_through_api(city, make_case, act, client_for):
    case = make_case()
    assert case.number.endswith("-BLZ-000001")
    r = client_for(city.secretary).get(f"/api/v1/cases/{case.pk}/")
    assert r.status_code == 200, r.content
    assert "accept" in r.json()["allowed_actions"]
    r = act(city.secretary, case, "accept")
    assert r.status_code == 200, r.content
    r = act(city.secretary, case, "assign", assignee=city.worker.pk)
    assert r.status_code == 200, r.content
    r = act(city.worker, case, "start")
    assert r.status_code == 200, r.content
    r = act(city.worker, case, "resolve", note="done")
    assert r.status_code == 200, r.content
    r = act(city.grid_worker, case, "verify")
    assert r.status_code == 200, r.content
    r = act(city.secretary, case, "close")
    assert r.status_code == 200, r.content
    r = act(city.secretary, case, "callback", rating="satisfied", called_at=timezone.now().isoformat(), comment="满意")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "closed"
    r = client_for(city.secretary).get("/api/v1/cases/")
    assert r.status_code == 200, r.content
