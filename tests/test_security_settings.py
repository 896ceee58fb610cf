"""Production settings: `check --deploy` clean, unsafe secrets refused at start-up, a Content-Security-Policy,
and API answers that browsers and proxies never store."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from gridcase import keys
from gridcase.core.middleware import NoStoreMiddleware
from gridcase.env import ConfigError

ROOT = Path(__file__).resolve().parent.parent
STRONG_SECRET = "kq3V9-x7Lr2pZc8mWb4NfTy6Hd1Gs5Jv0Ae-Ru9Xo2Ki7Qn3Mb8Ld4Fh6Cw1Pz5Yt0Ug"


def production_env(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FIELD_ENCRYPTION", "SECRET_KEY", "SECURE_", "SESSION_COOKIE", "POSTGRES_",
                                 "DJANGO_ALLOW_ASYNC_UNSAFE"))}  # the browser tests set that one for themselves
    env.update(GRIDCASE_DEV="false", GRIDCASE_DATA_DIR=str(tmp_path), SECRET_KEY=STRONG_SECRET,
               FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(), ALLOWED_HOSTS="gridcase.example.org",
               CACHE_URL="redis://127.0.0.1:6379/15",  # production requires a shared cache (not connected here)
               DJANGO_SETTINGS_MODULE="gridcase.settings")
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def start(env, *args):
    """Start a process the way gunicorn or Celery would: load the settings (and run a command)."""
    command = [sys.executable, "manage.py", *args] if args else [sys.executable, "-c", "import django; django.setup()"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


# check --deploy ------------------------------------------------------------------------------------------------

def test_check_deploy_is_clean_in_production_settings(tmp_path):
    result = start(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_what_an_operator_turned_off(tmp_path):
    """The production defaults are what makes it clean: switching them off is reported."""
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0",
                         SESSION_COOKIE_SECURE="false")
    result = start(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


# Secrets refused at start-up -----------------------------------------------------------------------------------

def test_production_refuses_to_start_without_a_field_encryption_key(tmp_path):
    result = start(production_env(tmp_path, FIELD_ENCRYPTION_KEY=None))
    assert result.returncode != 0
    assert "ConfigError" in result.stderr and "FIELD_ENCRYPTION_KEY is not set" in result.stderr


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def test_env_example_copied_unchanged_does_not_start(tmp_path):
    example = env_example()
    env = production_env(tmp_path, **example)
    env.pop("FIELD_ENCRYPTION_KEYS", None)
    result = start(env)
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr
    for problem in ("SECRET_KEY is a placeholder", "FIELD_ENCRYPTION_KEY is not set",
                    "DATABASE_URL uses a placeholder password", "POSTGRES_PASSWORD is a placeholder"):
        assert problem in result.stderr


def test_every_secret_placeholder_in_env_example_is_refused():
    example = env_example()
    assert example["SECRET_KEY"].lower() in keys.PLACEHOLDERS
    assert example["POSTGRES_PASSWORD"].lower() in keys.PLACEHOLDERS
    password = re.match(r"postgres://[^:]+:([^@]+)@", example["DATABASE_URL"]).group(1)
    assert password.lower() in keys.PLACEHOLDERS


def problems(secret=STRONG_SECRET, field_keys=None, database_url="postgres://gridcase:Xq9-long-random@db/gridcase"):
    return keys.production_problems(secret, [Fernet.generate_key().decode()] if field_keys is None else field_keys,
                                    database_url)


def test_good_production_secrets_pass(monkeypatch):
    monkeypatch.delenv("POSTGRES_PASSWORD", raising=False)
    assert problems() == []


@pytest.mark.parametrize("secret", ["", "change-me", "dev-only-insecure-key-change-me", "django-insecure-" + "x" * 50,
                                    "short-but-random-Zx81", "ab" * 40])
def test_weak_or_published_secret_keys_are_refused(secret, monkeypatch):
    monkeypatch.delenv("POSTGRES_PASSWORD", raising=False)
    assert any("SECRET_KEY" in p for p in problems(secret=secret))


def test_the_demo_field_key_from_the_source_is_refused(monkeypatch):
    monkeypatch.delenv("POSTGRES_PASSWORD", raising=False)
    published = keys.legacy_field_key(keys.LEGACY_DEV_SECRET_KEY)
    assert problems(field_keys=[published]) == ["FIELD_ENCRYPTION_KEY is the development default published in the source"]


def test_a_field_key_derived_from_secret_key_may_only_be_kept_for_rotation(monkeypatch):
    monkeypatch.delenv("POSTGRES_PASSWORD", raising=False)
    derived = keys.legacy_field_key(STRONG_SECRET)
    assert any("derived from SECRET_KEY" in p for p in problems(field_keys=[derived]))
    assert problems(field_keys=[Fernet.generate_key().decode(), derived]) == []


@pytest.mark.parametrize("value", ["not-a-key", Fernet.generate_key().decode()[:-4]], ids=["not-a-key", "truncated-key"])
def test_a_malformed_field_key_stops_start_up_naming_the_variable(value, monkeypatch):
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{Fernet.generate_key().decode()},{value}")
    with pytest.raises(ConfigError, match=r"FIELD_ENCRYPTION_KEYS: key #2 is not a Fernet key"):
        keys.field_keys()


# HTTPS -------------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_ssl_redirect_spares_the_health_probes():
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()
        assert client.get("/healthz").status_code == 200
        response = client.get("/api/v1/cases/")
        assert response.status_code == 301 and response["Location"].startswith("https://")


@pytest.mark.django_db
def test_hsts_and_secure_cookies_when_on_https():
    with override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
                           SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True):
        response = Client().get("/admin/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    cookie = response.cookies["csrftoken"]
    assert cookie["secure"] and cookie["samesite"] == "Lax"
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


# Content-Security-Policy ----------------------------------------------------------------------------------------

def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/login", "/admin/login/", "/api/docs/", "/api/v1/cases/"])
def test_every_page_carries_a_policy_that_forbids_foreign_and_inline_scripts(client, path):
    policy = directives(client.get(path))
    # Inline: only plugin-legacy's three fixed loaders in index.html, each by its hash (test_frontend_build.py).
    assert policy["script-src"] == ["'self'", *settings.LEGACY_LOADER_HASHES]
    assert all(s.startswith("'sha256-") for s in policy["script-src"][1:])
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]


@pytest.mark.django_db
def test_api_docs_need_neither_a_cdn_nor_an_inline_script(client):
    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script: blocked by the CSP"
    assert sources and all(s.startswith("/") for s in sources), sources  # this origin, no CDN
    bodies = {}
    for source in sources:
        response = client.get(source)
        assert response.status_code == 200, source
        bodies[source] = b"".join(response.streaming_content) if response.streaming else response.content
    start_up = next(body for source, body in bodies.items() if "script=" in source)
    assert b"SwaggerUIBundle" in start_up


# Cache-Control ------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_resident_detail_with_phone_is_never_stored(city, client_for):
    response = client_for(city.worker).get(f"/api/v1/residents/{city.resident.id}/")
    assert response.json()["phone"] == "13812345678"
    assert response["Cache-Control"] == "no-store, private"
    assert "Authorization" in response["Vary"] and "Cookie" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/residents/", "/api/v1/users/me/", "/api/v1/notifications/"])
def test_every_api_answer_is_no_store_including_errors(city, client_for, path):
    assert client_for(city.secretary).get(path)["Cache-Control"] == "no-store, private"
    assert client_for(None).get(path)["Cache-Control"] == "no-store, private"  # 401/403 too


@pytest.mark.django_db
def test_pages_outside_the_api_keep_their_own_caching(client):
    assert "Cache-Control" not in client.get("/healthz")
    assert "no-store" not in client.get("/api/schema/").get("Cache-Control", "")


def test_a_view_that_sets_its_own_cache_control_opts_out():
    def view(request):
        response = HttpResponse("{}")
        response["Cache-Control"] = "public, max-age=3600"
        return response

    response = NoStoreMiddleware(view)(RequestFactory().get("/api/v1/public-thing/"))
    assert response["Cache-Control"] == "public, max-age=3600"
