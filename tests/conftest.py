"""Shared fixtures. Personas: a micro-grid worker (in scope), a sibling micro-grid's worker, the
community secretary, another community's secretary (outsider), the street dispatcher, a viewer
and a department officer, on a small street tree."""

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from .persona import City, CitySnapshot, build_city, ensure_reference_data, group_by_snapshot  # noqa: F401 - City


def pytest_configure(config):
    if os.environ.get("GRIDCASE_REQUIRE_SERVICES") and not settings.IS_POSTGRES:
        pytest.exit("CI requires PostgreSQL but the tests are configured for SQLite", returncode=3)
    # Hashing a strong password costs ~0.3 s; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Parallel test processes may share one Redis cache (CACHE_URL): each keeps its keys, and clears, apart.
    settings.CACHES["default"]["KEY_PREFIX"] = f"test{os.getpid()}"


@pytest.fixture(scope="session")
def _persona_snapshot(django_db_setup, django_db_blocker):
    """This process's built city (tests/persona.py); rolled back when the session ends."""
    snapshot = CitySnapshot(django_db_blocker)
    yield snapshot
    snapshot.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """After pytest-django's ordering: a module's tests that share a snapshot run together (tests/persona.py)."""
    group_by_snapshot(items)


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef, request):
    """Before a test's own transaction begins (pytest-django's `_django_db_helper`, behind `db`,
    `transactional_db` and the `django_db` mark): open the city snapshot for a test that uses `city`, close it
    for any other database test."""
    if fixturedef.argname == "_django_db_helper":
        request.getfixturevalue("_persona_snapshot").prepare(request.node)


@pytest.fixture
def city(request, db):
    """The personas' street (tests/persona.py): built once per process and rolled back after each test; a
    transactional test builds its own."""
    snapshot = request.getfixturevalue("_persona_snapshot")
    if snapshot.serves():
        return snapshot.fresh_city()
    return build_city()


@pytest.fixture(autouse=True)
def _no_kept_copy_outlives_its_test():
    """A process keeps the SLA policies and the categories' rows it read outside a transaction (`KeptCopy`,
    gridcase/core/cache.py): only transactional tests do, and the tables they saw are flushed after them. It keeps
    the category tree and the working calendar too, re-checked every few seconds: a test that changed either
    inside its transaction (rolled back after it) would leave its copy to the tests that follow. The next test
    reads its own."""
    yield
    from gridcase.cases import categories, sla, workcalendar

    sla.forget()
    categories.forget()
    workcalendar.forget()


def api_client(user, language="zh-hans"):
    """An API client signed in as `user` (None: anonymous)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def client_for():
    return api_client
