"""Nobody takes over an account they do not manage (issue 7, item 1).

The takeover chain that worked before: grant the victim a role in your own area (`POST /memberships/`),
set their password (`PATCH /users/<id>/`), sign in as them. It is tried here for every ordered pair of
personas; exactly the pairs in ALLOWED get through (a manager above every role of the account), and for
every other pair nothing changes: no role granted, the password unchanged, the sign-in refused.
"""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from gridcase.grids.choices import Role
from gridcase.grids.models import DepartmentMember, Membership

from .. import factories as f

pytestmark = pytest.mark.django_db
User = get_user_model()

PERSONAS = ["worker", "grid_worker", "leader", "secretary", "outsider", "dispatcher", "viewer", "officer", "admin"]
# Who may take over whom: the superuser anyone; the street dispatcher everyone in the street below its rank
# (the community secretaries, the department serving the street, the street's viewer); the community
# secretary the workers and leader of her community. Nobody else anybody.
ALLOWED = (
    {("admin", p) for p in PERSONAS if p != "admin"}
    | {("dispatcher", p) for p in ["worker", "grid_worker", "leader", "secretary", "outsider", "viewer", "officer"]}
    | {("secretary", p) for p in ["worker", "grid_worker", "leader"]}
)
NEW_PASSWORD = "Taken-Over-4821"


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people(city):
    leader = f.member(f.UserFactory(username="leader"), city.grid, Role.GRID_LEADER)
    return {
        "worker": city.worker, "grid_worker": city.grid_worker, "leader": leader, "secretary": city.secretary,
        "outsider": city.outsider, "dispatcher": city.dispatcher, "viewer": city.viewer, "officer": city.officer,
        "admin": city.admin,
    }


def grant_grid(city, actor: str):
    """A grid in the actor's own area (where nobody holds a role yet) to grant the victim a role on."""
    return {"secretary": city.dedicated, "dispatcher": city.dedicated, "admin": city.dedicated,
            "outsider": city.other_grid, "worker": city.micro, "grid_worker": city.grid, "leader": city.grid,
            "viewer": city.dedicated, "officer": city.micro}[actor]


def sign_in(username, password):
    return APIClient().post("/api/v1/auth/login/", {"username": username, "password": password}, format="json")


@pytest.mark.parametrize("actor,target", [p for p in itertools.permutations(PERSONAS, 2)])
def test_takeover_chain_for_every_role_pair(city, people, client_for, actor, target):
    victim = people[target]
    grid = grant_grid(city, actor)
    c = client_for(people[actor])
    granted = c.post("/api/v1/memberships/", {"user": victim.id, "grid": grid.id, "role": "viewer"}, format="json")
    patched = c.patch(f"/api/v1/users/{victim.id}/", {"password": NEW_PASSWORD}, format="json")
    signed_in = sign_in(victim.username, NEW_PASSWORD)
    victim.refresh_from_db()

    if (actor, target) in ALLOWED:
        assert (granted.status_code, patched.status_code, signed_in.status_code) == (201, 200, 200), (
            granted.json(), patched.json())
        assert signed_in.json()["user"]["username"] == victim.username
        return
    # Refused: a body reference to an account out of sight is "no such account" (400 on `user`), an id in the
    # URL 404; an account in sight that the caller does not manage (or a caller who manages nobody) 403.
    assert granted.status_code in (400, 403), granted.json()
    assert patched.status_code in (403, 404), patched.json()
    if granted.status_code == 400:
        assert list(granted.json()["fields"]) == ["user"] and patched.status_code == 404
    else:
        assert granted.json()["code"] == "forbidden"
    assert not Membership.objects.filter(user=victim, grid=grid, role="viewer").exists()
    assert victim.check_password("pass-1234") and not victim.check_password(NEW_PASSWORD)
    assert signed_in.status_code == 400 and signed_in.json()["code"] == "invalid_credentials"


@pytest.mark.parametrize("actor,target,field,value", [
    ("secretary", "dispatcher", "display_name", "改名"),
    ("secretary", "admin", "is_active", False),
    ("secretary", "outsider", "is_active", False),
    ("outsider", "worker", "display_name", "改名"),
    ("dispatcher", "admin", "display_name", "改名"),
])
def test_rename_or_deactivate_out_of_sight_is_404(city, people, client_for, actor, target, field, value):
    victim = people[target]
    r = client_for(people[actor]).patch(f"/api/v1/users/{victim.id}/", {field: value}, format="json")
    assert r.status_code == 404
    victim.refresh_from_db()
    assert victim.is_active and victim.first_name != "改名"


def test_a_peer_or_a_higher_role_inside_the_area_is_not_managed(city, client_for):
    """Visible (they hold a role in her community) but not below her: refused, 403."""
    peer = f.member(f.UserFactory(username="peer"), city.community, Role.SECRETARY)
    higher = f.member(f.UserFactory(username="higher"), city.grid, Role.STREET_DISPATCHER)
    c = client_for(city.secretary)
    for user in (peer, higher):
        r = c.post("/api/v1/memberships/", {"user": user.id, "grid": city.micro.id, "role": "viewer"}, format="json")
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert "管辖范围" in r.json()["message"]  # says why, in the caller's language
        assert c.patch(f"/api/v1/users/{user.id}/", {"password": NEW_PASSWORD}, format="json").status_code == 403
        assert c.patch(f"/api/v1/users/{user.id}/", {"is_active": False}, format="json").status_code == 403
        user.refresh_from_db()
        assert user.is_active and user.check_password("pass-1234")


def test_an_account_with_a_role_elsewhere_is_not_managed(city, client_for):
    """A worker of her community who also works in the other community: her secretary cannot reset him."""
    both = f.member(f.member(f.UserFactory(username="both"), city.micro, Role.MICRO_GRID_WORKER),
                    city.other_micro, Role.MICRO_GRID_WORKER)
    c = client_for(city.secretary)
    r = c.post("/api/v1/memberships/", {"user": both.id, "grid": city.sibling_micro.id, "role": "micro_grid_worker"},
               format="json")
    assert r.status_code == 403
    assert c.patch(f"/api/v1/users/{both.id}/", {"password": NEW_PASSWORD}, format="json").status_code == 403
    # The street above both communities manages him.
    assert client_for(city.dispatcher).patch(f"/api/v1/users/{both.id}/", {"password": NEW_PASSWORD},
                                             format="json").status_code == 200


def test_staff_and_superusers_are_never_managed_by_a_role(city, client_for):
    staff = f.member(f.UserFactory(username="staffer", is_staff=True), city.micro, Role.VIEWER)
    root = f.member(f.UserFactory(username="root2", is_superuser=True), city.micro, Role.VIEWER)
    for manager in (city.secretary, city.dispatcher):
        c = client_for(manager)
        for user in (staff, root):
            r = c.post("/api/v1/memberships/", {"user": user.id, "grid": city.micro.id, "role": "micro_grid_worker"},
                       format="json")
            assert r.status_code == 403
            assert c.patch(f"/api/v1/users/{user.id}/", {"password": NEW_PASSWORD}, format="json").status_code == 403
            user.refresh_from_db()
            assert user.check_password("pass-1234")
    assert client_for(city.admin).patch(f"/api/v1/users/{staff.id}/", {"display_name": "值班"},
                                        format="json").status_code == 200


def test_memberships_of_accounts_not_managed_cannot_be_changed_or_removed(city, client_for):
    peer = f.member(f.UserFactory(username="peer"), city.community, Role.SECRETARY)
    peer_role = Membership.objects.get(user=peer)
    c = client_for(city.secretary)
    assert c.patch(f"/api/v1/memberships/{peer_role.id}/", {"role": "viewer"}, format="json").status_code == 403
    assert c.delete(f"/api/v1/memberships/{peer_role.id}/").status_code == 403
    # Nor can she hand a role she may grant over to an account she does not manage.
    worker_role = Membership.objects.get(user=city.worker)
    r = c.patch(f"/api/v1/memberships/{worker_role.id}/", {"user": peer.id}, format="json")
    assert r.status_code == 403
    r = c.patch(f"/api/v1/memberships/{worker_role.id}/", {"user": city.dispatcher.id}, format="json")
    assert r.status_code == 400 and list(r.json()["fields"]) == ["user"]
    worker_role.refresh_from_db()
    assert worker_role.user_id == city.worker.id and Membership.objects.get(user=peer).role == Role.SECRETARY
    # Her own workers' roles she does manage.
    assert c.patch(f"/api/v1/memberships/{worker_role.id}/", {"title": "楼长"}, format="json").status_code == 200
    assert c.delete(f"/api/v1/memberships/{worker_role.id}/").status_code == 204


def test_nobody_grants_themselves_a_role(city, client_for):
    r = client_for(city.secretary).post("/api/v1/memberships/", {"user": city.secretary.id, "grid": city.grid.id,
                                                                 "role": "grid_leader"}, format="json")
    assert r.status_code == 403


def test_own_names_and_password_may_change_but_not_own_standing(city, client_for):
    c = client_for(city.secretary)
    r = c.patch(f"/api/v1/users/{city.secretary.id}/", {"display_name": "张书记", "password": "Another-pass-77"},
                format="json")
    assert r.status_code == 200 and r.json()["display_name"] == "张书记"
    assert c.patch(f"/api/v1/users/{city.secretary.id}/", {"is_active": False}, format="json").status_code == 403
    assert c.patch(f"/api/v1/users/{city.secretary.id}/", {"username": "boss"}, format="json").status_code == 403


def test_department_officers_belong_to_the_street_serving_their_department(city, client_for):
    assert city.officer.id in [u["id"] for u in client_for(city.dispatcher).get("/api/v1/users/").json()["results"]]
    assert city.officer.id not in [u["id"] for u in client_for(city.secretary).get("/api/v1/users/").json()["results"]]
    # A city-wide department (no area) is the superuser's: the street cannot create its officers.
    citywide = f.department(code="power", name="供电公司", area=None)
    body = {"username": "power1", "password": "a-Strong-pass-9", "department": citywide.id}
    assert client_for(city.dispatcher).post("/api/v1/users/", body, format="json").status_code == 403
    assert client_for(city.admin).post("/api/v1/users/", body, format="json").status_code == 201
    assert DepartmentMember.objects.filter(user__username="power1", department=citywide).exists()
    other = User.objects.get(username="power1")
    assert client_for(city.dispatcher).patch(f"/api/v1/users/{other.id}/", {"password": NEW_PASSWORD},
                                             format="json").status_code == 404
