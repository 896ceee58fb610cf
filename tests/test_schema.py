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


# --- the schema tells the truth (issue 7, item 8) ---------------------------------------------------------------

@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, op


def _component(schema, ref):
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_every_case_action_documents_its_request_body(schema):
    from gridcase.cases import state

    for name, transition in state.TRANSITIONS.items():
        op = schema["paths"][f"/api/v1/cases/{{id}}/{name}/"]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]
        component = _component(schema, body["$ref"])
        assert "version" in component["properties"], name
        for field in transition.requires:
            assert field in component["properties"] and field in component.get("required", []), (name, field)
        # Answers: the case, or the error shape for each way an action is refused.
        assert set(op["responses"]) >= {"200", "400", "403", "404", "409", "412"}, (name, sorted(op["responses"]))


def test_every_error_answer_is_the_error_shape(schema):
    codes = set()
    for path, method, op in _operations(schema):
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Error"), (method, path, code)
                codes.add(code)
        assert "400" in op["responses"], (method, path)
    assert codes >= {"400", "401", "403", "404", "409", "412", "413", "415", "429"}
    assert set(_component(schema, "Error")["required"]) == {"code", "message", "fields"}


def test_throttled_and_versioned_operations_say_so(schema):
    assert "429" in schema["paths"]["/api/v1/auth/login/"]["post"]["responses"]
    assert "429" in schema["paths"]["/api/v1/intake/{qr_token}/"]["post"]["responses"]
    assert "412" in schema["paths"]["/api/v1/cases/{id}/"]["patch"]["responses"]
    assert "412" not in schema["paths"]["/api/v1/grids/{id}/"]["patch"]["responses"]


def test_the_shapes_the_fuzzer_found_wrong_are_right(schema):
    grid = _component(schema, "Grid")
    assert "children_count" in grid["required"]
    assert _component(schema, "CarePlan")["properties"]["worker"].get("nullable")
    assert _component(schema, "Visit")["properties"]["case"].get("nullable")
    assert _component(schema, "Notification")["properties"]["case"].get("nullable")
    sla_stage = _component(schema, "Case")["properties"]["sla_stage"]
    assert any(r.get("$ref", "").endswith("BlankEnum") for r in sla_stage["oneOf"])
    marked = schema["paths"]["/api/v1/notifications/read-all/"]["post"]["responses"]["200"]
    assert "marked" in _component(schema, marked["content"]["application/json"]["schema"]["$ref"])["properties"]
    tree = schema["paths"]["/api/v1/grids/tree/"]["get"]["responses"]["200"]["content"]["application/json"]
    node = _component(schema, _component(schema, tree["schema"]["$ref"])["properties"]["results"]["items"]["$ref"])
    assert {"children_count", "children"} <= set(node["properties"])


def test_list_filters_are_documented_on_lists_only(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/cases/{id}/events/"]["get"].get("parameters", [])}
    assert "status" not in params and "cursor" in params
    params = {p["name"] for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert {"status", "within", "dedicated_grid", "cursor", "page_size"} <= params
