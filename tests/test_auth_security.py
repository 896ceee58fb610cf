"""Signing in, tokens and login throttles under attack (issue 7, items 3, 4 and 13).

Tokens end at logout, at any password change and at their expiry, and rotate; failed logins are throttled
per username+address, per address and (as a delay that a known device skips) per account, on the client's
real address; login CSRF is closed; weak passwords are refused in production; a call without credentials
answers 401 with WWW-Authenticate.
"""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from gridcase.core import clientaddr, loginguard, ratelimit

pytestmark = pytest.mark.django_db
User = get_user_model()
ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/api/v1/auth/login/"


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """The throttles' clock, moved forward by the test (the cache is real)."""
    state = {"now": ratelimit.now()}
    monkeypatch.setattr(ratelimit, "now", lambda: state["now"])

    def advance(seconds):
        state["now"] += seconds

    return advance


def login(client=None, username="worker", password="pass-1234", addr="10.1.1.1", **extra):
    client = client or APIClient(HTTP_ACCEPT_LANGUAGE="en")
    return client.post(LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=addr, **extra)


def token_client(token):
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}")


# Tokens ---------------------------------------------------------------------------------------------------------

def test_token_is_stored_hashed_and_expires_after_the_ttl(city):
    r = login()
    token = r.json()["token"]
    stored = AuthToken.objects.get(user=city.worker)
    assert token not in (stored.digest, stored.token_key) and stored.token_key == token[:15]
    expected = timezone.now() + timedelta(hours=settings.TOKEN_TTL_HOURS)
    assert abs((stored.expiry - expected).total_seconds()) < 60
    assert r.json()["token_expiry"]
    assert token_client(token).get("/api/v1/me/").status_code == 200


def test_token_after_expiry_is_401(city):
    token = login().json()["token"]
    AuthToken.objects.filter(user=city.worker).update(expiry=timezone.now() - timedelta(seconds=1))
    r = token_client(token).get("/api/v1/me/")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert not AuthToken.objects.filter(user=city.worker).exists()  # expired tokens are deleted


def test_token_after_logout_is_401_and_other_devices_keep_theirs(city):
    phone, laptop = login().json()["token"], login().json()["token"]
    assert token_client(phone).post("/api/v1/auth/logout/").status_code == 204
    assert token_client(phone).get("/api/v1/me/").status_code == 401
    assert token_client(laptop).get("/api/v1/me/").status_code == 200


def test_session_logout_ends_the_token_issued_with_the_session(city):
    web = APIClient()
    token = login(web).json()["token"]
    assert web.post("/api/v1/auth/logout/").status_code == 204
    assert web.get("/api/v1/me/").status_code == 401
    assert token_client(token).get("/api/v1/me/").status_code == 401


def test_token_after_password_change_through_the_api_is_401(city, client_for):
    token = login().json()["token"]
    session = APIClient()
    login(session)
    r = client_for(city.secretary).patch(f"/api/v1/users/{city.worker.id}/", {"password": "New-pass-2931"},
                                         format="json")
    assert r.status_code == 200
    assert token_client(token).get("/api/v1/me/").status_code == 401
    assert session.get("/api/v1/me/").status_code == 401  # the session ended with the old password too
    assert login(password="New-pass-2931").status_code == 200


def test_token_after_own_password_change_is_401(city):
    token = login(username="secretary").json()["token"]
    r = token_client(token).patch(f"/api/v1/users/{city.secretary.id}/", {"password": "New-pass-2931"}, format="json")
    assert r.status_code == 200
    assert token_client(token).get("/api/v1/me/").status_code == 401


def test_token_after_password_change_in_admin_or_code_is_401(city):
    token = login().json()["token"]
    admin = Client()
    admin.force_login(city.admin)
    r = admin.post(f"/admin/auth/user/{city.worker.id}/password/",
                   {"password1": "Admin-set-pass-77", "password2": "Admin-set-pass-77", "usable_password": "true"})
    assert r.status_code == 302, r.content[:500]
    assert token_client(token).get("/api/v1/me/").status_code == 401

    token = login(password="Admin-set-pass-77").json()["token"]
    worker = User.objects.get(pk=city.worker.pk)
    worker.set_password("Reset-by-code-55")  # a reset form, `changepassword`, a shell
    worker.save()
    assert token_client(token).get("/api/v1/me/").status_code == 401


def test_other_saves_of_the_user_keep_the_tokens(city):
    token = login().json()["token"]
    worker = User.objects.get(pk=city.worker.pk)
    worker.first_name = "新名字"
    worker.save()
    assert token_client(token).get("/api/v1/me/").status_code == 200


def test_deactivated_account_token_is_401(city, client_for):
    token = login().json()["token"]
    assert client_for(city.secretary).patch(f"/api/v1/users/{city.worker.id}/", {"is_active": False},
                                            format="json").status_code == 200
    assert token_client(token).get("/api/v1/me/").status_code == 401


def test_refresh_issues_a_new_token_and_ends_the_old(city):
    old = login().json()["token"]
    AuthToken.objects.filter(user=city.worker).update(expiry=timezone.now() + timedelta(minutes=5))
    r = token_client(old).post("/api/v1/auth/token/refresh/")
    assert r.status_code == 200
    new = r.json()["token"]
    assert new != old
    assert token_client(new).get("/api/v1/me/").status_code == 200
    assert token_client(old).get("/api/v1/me/").status_code == 401
    assert token_client(old).post("/api/v1/auth/token/refresh/").status_code == 401
    assert AuthToken.objects.get(user=city.worker).expiry > timezone.now() + timedelta(hours=settings.TOKEN_TTL_HOURS - 1)


def test_refresh_needs_a_token(city):
    web = APIClient()
    login(web)
    r = web.post("/api/v1/auth/token/refresh/")
    assert r.status_code == 400 and r.json()["code"] == "token_required"


@pytest.mark.parametrize("header", [b"Token \xff\xfe", "Token " + "g" * 64, "Token abc", "Token", "Token a b"])
def test_malformed_token_headers_are_401_not_500(city, header):
    r = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


# 401 with WWW-Authenticate ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/cases/", "/api/v1/residents/"])
def test_no_credentials_is_401_with_www_authenticate(path):
    r = APIClient().get(path)
    assert r.status_code == 401
    assert r["WWW-Authenticate"] == "Token"
    assert r.json()["code"] == "not_authenticated"


# Login CSRF ------------------------------------------------------------------------------------------------------

def test_browser_login_needs_the_csrf_token(city):
    browser = APIClient(enforce_csrf_checks=True)
    browser.get("/api/v1/auth/csrf/")
    r = login(browser)  # another site's form: the browser sends its cookies, not the token
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert "sessionid" not in r.cookies
    assert not AuthToken.objects.filter(user=city.worker).exists()
    r = login(browser, HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert r.status_code == 200 and "sessionid" in r.cookies
    assert browser.get("/api/v1/me/").json()["username"] == "worker"


def test_cookieless_login_gets_a_token_but_no_session(city):
    """An integration (or a fresh browser tricked by another site): no session starts."""
    client = APIClient(enforce_csrf_checks=True)
    r = login(client)
    assert r.status_code == 200
    assert "sessionid" not in r.cookies
    assert client.get("/api/v1/me/").status_code == 401
    assert token_client(r.json()["token"]).get("/api/v1/me/").json()["username"] == "worker"


# Throttles -------------------------------------------------------------------------------------------------------

def test_username_and_address_limit_blocks_with_retry_after_and_doubles(city, clock):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert login(password="nope").json()["code"] == "invalid_credentials"
    r = login()  # right password, but this address is blocked for this username
    assert r.status_code == 429 and r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) == settings.LOGIN_FAILURE_WINDOW
    assert login(addr="10.9.9.9").status_code == 200  # the worker elsewhere is not affected
    clock(settings.LOGIN_FAILURE_WINDOW + 1)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert login(password="nope").status_code == 400
    r = login()
    assert r.status_code == 429 and int(r["Retry-After"]) == 2 * settings.LOGIN_FAILURE_WINDOW
    clock(2 * settings.LOGIN_FAILURE_WINDOW + 1)
    assert login().status_code == 200


def test_a_success_forgets_the_failures_of_that_address(city):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        login(password="nope")
    assert login().status_code == 200
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert login(password="nope").status_code == 400


@override_settings(LOGIN_THROTTLE_RATE="6/hour")
def test_address_limit_across_usernames(city):
    for i in range(6):
        assert login(username=f"guess{i}", password="nope").status_code == 400
    r = login(username="worker")
    assert r.status_code == 429 and int(r["Retry-After"]) == settings.LOGIN_FAILURE_WINDOW
    assert login(username="worker", addr="10.2.2.2").status_code == 200


@override_settings(LOGIN_THROTTLE_RATE="6/hour")
def test_rotating_x_forwarded_for_does_not_escape_the_address_limit(city):
    """No trusted proxies: the header is the client's own claim and is ignored."""
    for i in range(6):
        login(username=f"guess{i}", password="nope", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    r = login(username="guess9", password="nope", HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert r.status_code == 429


@override_settings(LOGIN_THROTTLE_RATE="6/hour", TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_address_is_the_one_the_proxy_saw(city):
    proxy = "172.18.0.5"
    for i in range(6):  # the client forges a left part; nginx appends the address it really saw
        login(username=f"guess{i}", password="nope", addr=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 203.0.113.50")
    r = login(username="worker", addr=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.50")
    assert r.status_code == 429
    # Everyone else behind the same proxy is someone else.
    assert login(username="worker", addr=proxy, HTTP_X_FORWARDED_FOR="203.0.113.51").status_code == 200


@override_settings(LOGIN_ACCOUNT_FAILURE_LIMIT=3)
def test_account_guessing_from_many_addresses_is_slowed_but_the_known_device_signs_in(city, clock):
    phone = APIClient()
    assert login(phone, addr="10.5.5.5").status_code == 200  # the worker's phone, signed in before
    assert loginguard.DEVICE_COOKIE in phone.cookies
    for i in range(3):  # a stranger, from a new address each time
        assert login(password="nope", addr=f"198.51.100.{i}").status_code == 400
    r = login(addr="198.51.100.200")  # even the right password waits on a device never seen
    assert r.status_code == 429 and int(r["Retry-After"]) == 60
    assert login(phone, addr="100.64.7.7").status_code == 200  # the worker, on her phone, on a new network
    clock(61)
    assert login(password="nope", addr="198.51.100.201").status_code == 400
    r = login(addr="198.51.100.202")
    assert r.status_code == 429 and int(r["Retry-After"]) == 120  # each further failure doubles the delay
    clock(settings.LOGIN_ACCOUNT_DELAY_MAX * 4)
    assert login(addr="198.51.100.203").status_code == 200  # a delay, never a lockout


@override_settings(LOGIN_ACCOUNT_FAILURE_LIMIT=2)
def test_a_device_known_for_another_account_or_a_forged_cookie_does_not_count(city):
    client = APIClient()
    assert login(client, username="secretary").status_code == 200
    for i in range(2):
        login(password="nope", addr=f"198.51.100.{i}")
    assert login(client, addr="198.51.100.9").status_code == 429
    forged = APIClient()
    forged.cookies[loginguard.DEVICE_COOKIE] = "not-signed"
    assert login(forged, addr="198.51.100.10").status_code == 429


def test_throttle_counts_live_in_the_shared_cache(city):
    """Every web process must see one count: with CACHE_URL (Redis) the block is visible to a new connection."""
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        url = os.environ.get("CELERY_BROKER_URL", "")
        if not url.startswith("redis"):
            pytest.skip("no Redis (CACHE_URL or a redis broker) to test against")
        redis_cache = dict(settings.CACHES["default"], BACKEND="gridcase.core.cache.RedisCache", LOCATION=url)
        with override_settings(CACHES={"default": redis_cache}):
            caches._settings = None  # re-read
            try:
                _check_shared_block()
            finally:
                cache.clear()
    else:
        _check_shared_block()


def _check_shared_block():
    from django.core.cache.backends.redis import RedisCache

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert login(password="nope").status_code == 400
    other_process = caches.create_connection("default")  # a connection of its own, like another gunicorn worker
    assert isinstance(other_process, RedisCache)
    pair = loginguard._limits()[0]
    ident = f"{loginguard._account_id('worker')}:10.1.1.1"
    assert other_process.get(pair._key(ident, "until")) is not None
    assert login().status_code == 429


# Client address ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("count,remote,header,expected", [
    (0, "10.0.0.1", "1.2.3.4", "10.0.0.1"),
    (1, "10.0.0.1", "1.2.3.4", "1.2.3.4"),
    (1, "10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
    (2, "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"),
    (2, "10.0.0.1", "1.2.3.4", "1.2.3.4"),
    (1, "10.0.0.1", "", "10.0.0.1"),
    (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
    (1, "10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
])
def test_client_address_reads_only_trusted_hops(count, remote, header, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=header)
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert clientaddr.client_address(request) == expected


def test_an_ipv6_subscriber_is_one_address():
    assert clientaddr.address_bucket("2001:db8:1:2:aaaa::1") == clientaddr.address_bucket("2001:db8:1:2:bbbb::9")
    assert clientaddr.address_bucket("::ffff:203.0.113.9") == "203.0.113.9"


def test_rate_parsing():
    assert loginguard.parse_rate("30/hour") == (30, 3600)
    assert loginguard.parse_rate("5/10m") == (5, 600)
    for bad in ("", "ten/min", "5/fortnight", "0/min"):
        with pytest.raises(ValueError):
            loginguard.parse_rate(bad)


# Passwords ---------------------------------------------------------------------------------------------------------

def test_weak_password_through_the_api_is_400_on_the_password_field(city, client_for):
    r = client_for(city.secretary).patch(f"/api/v1/users/{city.worker.id}/", {"password": "password"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "validation_error" and "password" in r.json()["fields"]
    assert User.objects.get(pk=city.worker.pk).check_password("pass-1234")


PRODUCTION_CHECK = """
import django; django.setup()
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
def refused(pw, user=None):
    try:
        validate_password(pw, user=user)
    except ValidationError:
        return True
    return False
assert refused("gridcase123"), "gridcase123"
assert refused("1234567890123"), "numeric"
assert refused("password123"), "common"
assert refused("wangxiuying88", User(username="wangxiuying88")), "like the username"
assert not refused("Tall-river-4821-lamp")
print("OK")
"""


def production_env(**overrides):
    keys = subprocess.run([sys.executable, "-m", "gridcase.keys", "generate"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELD_ENCRYPTION", "SECRET_KEY", "CACHE_"))}
    env.update(dict(line.split("=", 1) for line in keys.split()))
    env.update(GRIDCASE_DEV="false", ALLOWED_HOSTS="gridcase.example.org", CACHE_URL="redis://127.0.0.1:6379/1",
               DJANGO_SETTINGS_MODULE="gridcase.settings")
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_production_refuses_demo_grade_passwords(tmp_path):
    env = production_env(GRIDCASE_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", PRODUCTION_CHECK], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-2000:]


@pytest.mark.parametrize("overrides,message", [
    ({"CACHE_URL": None}, "CACHE_URL must point to Redis in production"),
    ({"CACHE_URL": "locmem://"}, "CACHE_URL must be a Redis URL"),
    ({"LOGIN_THROTTLE_RATE": "lots"}, "LOGIN_THROTTLE_RATE"),
    ({"TOKEN_TTL_HOURS": "0"}, "TOKEN_TTL_HOURS"),
])
def test_production_refuses_to_start_without_a_shared_throttle_store(tmp_path, overrides, message):
    env = production_env(GRIDCASE_DATA_DIR=str(tmp_path), **overrides)
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and message in result.stderr


PRODUCTION_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "gridcase.core.passwords.DecoratedCommonPasswordValidator"},
]


@override_settings(AUTH_PASSWORD_VALIDATORS=PRODUCTION_VALIDATORS)
@pytest.mark.parametrize("body", [
    {"password": "gridcase123"},
    {"password": "4821937465"},
    {"password": "short-1"},
])
def test_api_refuses_weak_passwords_with_the_production_validators(city, client_for, body):
    r = client_for(city.secretary).patch(f"/api/v1/users/{city.worker.id}/", body, format="json")
    assert r.status_code == 400 and list(r.json()["fields"]) == ["password"]


@override_settings(AUTH_PASSWORD_VALIDATORS=PRODUCTION_VALIDATORS)
def test_a_new_account_password_like_its_username_is_refused(city, client_for):
    r = client_for(city.secretary).post("/api/v1/users/", {
        "username": "liuxiaohong", "password": "liuxiaohong1", "grid": city.micro.id, "role": "micro_grid_worker"},
        format="json")
    assert r.status_code == 400 and "password" in r.json()["fields"]
    assert not User.objects.filter(username="liuxiaohong").exists()
