"""The OpenAPI schema is valid and complete (no warnings: every view documents what it takes and answers)."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/v1/grids/", "/api/v1/residents/", "/api/v1/auth/login/", "/api/v1/me/"):
        assert path in text


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_spa_index_served_for_app_routes(client, settings, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>")
    settings.FRONTEND_DIST = tmp_path
    response = client.get("/m/visits")
    assert response.status_code == 200 and b"id=app" in response.content
    assert "csrftoken" in response.cookies
    assert client.get("/api/v1/nope/").status_code == 404
