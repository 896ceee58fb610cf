"""Schemathesis over every operation of the OpenAPI schema, as two roles, in-process (WSGI).

Fails on any 5xx, any status code the schema does not document, any response body or content type that
does not match the schema, and any request the schema calls invalid that the API accepts. The budget is
small here (`make test`); `make fuzz` runs the same checks with a larger one (FUZZ_MAX_EXAMPLES).
"""

import json
import os

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as oa_checks

from gridcase.cases.models import Case

from .. import persona
from . import world as w

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# `make test`: a small budget and a fixed seed (the same requests every run, so CI never flakes);
# `make fuzz` (scripts/fuzz.sh): a larger budget and a fresh seed each run.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
SEED = os.environ.get("FUZZ_SEED", "7")
CONFIG = schemathesis.Config.from_dict({
    **({} if SEED == "random" else {"seed": int(SEED)}),
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    oa_checks.status_code_conformance,
    oa_checks.content_type_conformance,
    oa_checks.response_schema_conformance,
    oa_checks.negative_data_rejection,
    oa_checks.unsupported_method,
]


class Tally:
    """Requests sent (the checks' own included) and operations fuzzed; appended to $FUZZ_LOG when set."""

    def __init__(self):
        self.requests = 0
        self.operations = set()

    def count(self, **kwargs):
        self.requests += 1

    def write(self):
        path = os.environ.get("FUZZ_LOG")
        if path:
            with open(path, "a", encoding="utf-8") as log:
                log.write(json.dumps({"requests": self.requests, "operations": sorted(self.operations)}) + "\n")


@pytest.fixture(scope="module")
def tally():
    counter = Tally()
    request_started.connect(counter.count)
    yield counter
    request_started.disconnect(counter.count)
    counter.write()


@persona.layer("fuzz_world_built")
def build_world(city):
    cache.clear()
    return w.build(city)


@pytest.fixture
def fuzz_world_built(request, city):
    """The world joins the city snapshot (tests/persona.py): built once per process, rolled back per test."""
    return persona.layer_value(request, "fuzz_world_built") or build_world(city)


@pytest.fixture
def fuzz_world(fuzz_world_built, tally):
    """The world, then raw WSGI requests that keep the test's database connection open, as Django's test
    client does (else each request would close the connection holding the test's transaction). After the
    world is built: the test client used for logging in connects the signal again when it is done."""
    cache.clear()
    world = fuzz_world_built
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield world
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    cache.clear()


def aim(case, world):
    """Point a generated request at objects that exist (otherwise nearly every request would be a 404), and
    send a case's current version, so the workflow's own rules are reached. Invalid values stay as generated."""
    params = case.path_parameters or {}
    resource = case.path.split("/")[3]
    for name, value in list(params.items()):
        if name == "id" and str(value).isdigit() and world.ids.get(resource):
            choices = world.ids[resource]
            params[name] = choices[int(value) % len(choices)]
        elif name in world.strings and isinstance(value, str) and value.isalnum():
            params[name] = world.strings[name][len(value) % len(world.strings[name])]
    if resource == "cases" and str(params.get("id", "")).isdigit() and isinstance(case.body, dict) \
            and isinstance(case.body.get("version"), int) and case.body["version"] >= 0:
        current = Case.objects.filter(pk=params["id"]).values_list("version", flat=True).first()
        if current is not None:
            case.body["version"] = current


@pytest.mark.parametrize("role", w.ROLES)
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api(case, role, fuzz_world, tally):
    tally.operations.add(f"{case.operation.label} as {role}")
    aim(case, fuzz_world)
    case.call_and_validate(headers={"Authorization": f"Token {fuzz_world.tokens[role]}"}, checks=CHECKS)
