"""Login, `me`, throttling, and accounts created by admins or by a secretary within their community."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from gridcase.grids.models import Membership

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()


def test_login_sets_session_and_returns_me_and_token(city):
    c = APIClient(enforce_csrf_checks=True)
    c.get("/api/v1/auth/csrf/")  # as the web app does before signing in
    r = c.post("/api/v1/auth/login/", {"username": "worker", "password": "pass-1234"}, format="json",
               HTTP_X_CSRFTOKEN=c.cookies["csrftoken"].value)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["user"]["username"] == "worker"
    assert body["user"]["primary_role"] == "micro_grid_worker" and body["user"]["home"] == "mobile"
    assert body["user"]["roles"][0]["grid_code"] == "ST-BLZ-G01-M01"
    assert c.get("/api/v1/me/").json()["username"] == "worker"
    token_client = APIClient(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert token_client.get("/api/v1/me/").status_code == 200


def test_me_home_by_role(city, client_for):
    assert client_for(city.secretary).get("/api/v1/me/").json()["home"] == "console"
    assert client_for(city.officer).get("/api/v1/me/").json()["home"] == "department"


def test_wrong_password_is_400_with_code_and_then_throttled(city):
    c = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(5):
        r = c.post("/api/v1/auth/login/", {"username": "worker", "password": "nope"}, format="json")
        assert r.status_code == 400 and r.json()["code"] == "invalid_credentials"
    r = c.post("/api/v1/auth/login/", {"username": "worker", "password": "pass-1234"}, format="json")
    assert r.status_code == 429 and r.json()["code"] == "throttled"


def test_logout_needs_csrf_for_session_users(city):
    c = APIClient(enforce_csrf_checks=True)
    c.get("/api/v1/auth/csrf/")
    r = c.post("/api/v1/auth/login/", {"username": "worker", "password": "pass-1234"}, format="json",
               HTTP_X_CSRFTOKEN=c.cookies["csrftoken"].value)
    assert r.status_code == 200
    assert c.post("/api/v1/auth/logout/").status_code == 403
    token = c.cookies["csrftoken"].value  # login rotates the CSRF token
    assert c.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert c.get("/api/v1/me/").status_code == 401


def test_secretary_creates_a_worker_in_their_community(city, client_for):
    r = client_for(city.secretary).post("/api/v1/users/", {
        "username": "newworker", "display_name": "刘阿姨", "password": "a-Strong-pass-9",
        "grid": city.sibling_micro.id, "role": "micro_grid_worker"}, format="json")
    assert r.status_code == 201, r.json()
    user = User.objects.get(username="newworker")
    assert user.check_password("a-Strong-pass-9")
    assert Membership.objects.filter(user=user, grid=city.sibling_micro, role="micro_grid_worker").exists()


def test_secretary_cannot_create_accounts_outside_or_above(city, client_for):
    c = client_for(city.secretary)
    # Grids outside the secretary's community (another community's, the street above) do not exist for them.
    r = c.post("/api/v1/users/", {"username": "x1", "password": "a-Strong-pass-9", "grid": city.other_micro.id,
                                  "role": "micro_grid_worker"}, format="json")
    assert r.status_code == 400 and "grid" in r.json()["fields"]
    r = c.post("/api/v1/users/", {"username": "x2", "password": "a-Strong-pass-9", "grid": city.street.id,
                                  "role": "street_dispatcher"}, format="json")
    assert r.status_code == 400 and "grid" in r.json()["fields"]
    # Their own community, but a role above their own.
    r = c.post("/api/v1/users/", {"username": "x6", "password": "a-Strong-pass-9", "grid": city.community.id,
                                  "role": "street_dispatcher"}, format="json")
    assert r.status_code == 403
    assert not User.objects.filter(username__in=["x1", "x2", "x6"]).exists()


def test_worker_cannot_create_accounts(city, client_for):
    r = client_for(city.worker).post("/api/v1/users/", {"username": "x3", "password": "a-Strong-pass-9",
                                                        "grid": city.micro.id, "role": "viewer"}, format="json")
    assert r.status_code == 403


def test_weak_password_and_missing_role_are_400(city, client_for):
    c = client_for(city.secretary)
    assert c.post("/api/v1/users/", {"username": "x4", "password": "123", "grid": city.micro.id,
                                     "role": "viewer"}, format="json").status_code == 400
    r = c.post("/api/v1/users/", {"username": "x5", "password": "a-Strong-pass-9"}, format="json")
    assert r.status_code == 400 and "grid" in r.json()["fields"]


def test_membership_grant_respects_rank(city, client_for):
    c = client_for(city.secretary)
    ok = c.post("/api/v1/memberships/", {"user": city.sibling_worker.id, "grid": city.grid.id, "role": "grid_leader"},
                format="json")
    assert ok.status_code == 201, ok.json()
    # The street is above the secretary's community: outside their area, so it does not exist for them.
    too_high = c.post("/api/v1/memberships/", {"user": city.sibling_worker.id, "grid": city.street.id,
                                               "role": "viewer"}, format="json")
    assert too_high.status_code == 400 and "grid" in too_high.json()["fields"]
    dup = c.post("/api/v1/memberships/", {"user": city.sibling_worker.id, "grid": city.grid.id, "role": "grid_leader"},
                 format="json")
    assert dup.status_code == 400
