"""Shared fixtures. Personas: a micro-grid worker (in scope), a sibling micro-grid's worker, the
community secretary, another community's secretary (outsider), the street dispatcher, a viewer
and a department officer, on a small street tree."""

import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from gridcase.grids.choices import Level, Role

from . import factories as f


def pytest_configure(config):
    if os.environ.get("GRIDCASE_REQUIRE_SERVICES") and not settings.IS_POSTGRES:
        pytest.exit("CI requires PostgreSQL but the tests are configured for SQLite", returncode=3)
    # Hashing a strong password costs ~0.3 s; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Parallel test processes may share one Redis cache (CACHE_URL): each keeps its keys, and clears, apart.
    settings.CACHES["default"]["KEY_PREFIX"] = f"test{os.getpid()}"


@dataclass
class City:
    street: object
    community: object
    other_community: object
    grid: object
    micro: object
    sibling_micro: object
    other_grid: object
    other_micro: object
    dedicated: object
    building: object
    unit: object
    sibling_unit: object
    household: object
    sibling_household: object
    other_household: object
    resident: object
    sibling_resident: object
    other_resident: object
    worker: object
    sibling_worker: object
    grid_worker: object
    secretary: object
    outsider: object
    dispatcher: object
    viewer: object
    department: object
    officer: object
    admin: object


REFERENCE_DATA = [
    ("gridcase.grids.migrations.0002_default_tags", "create_tags"),
    ("gridcase.cases.migrations.0002_taxonomy", "forwards"),
    ("gridcase.cases.migrations.0003_category_copy_levels", "set_copies"),
    ("gridcase.visits.migrations.0002_default_cadences", "create_rules"),
    ("gridcase.cases.migrations.0004_calendar", "seed"),
]


def ensure_reference_data():
    """Transactional tests (live server, concurrency) flush the tables that data migrations filled —
    key-population tags, the case taxonomy, default cadences. Put them back, as a fresh install has them."""
    from importlib import import_module

    from django.apps import apps

    from gridcase.grids.models import Tag

    if Tag.objects.exists():
        return
    for module, function in REFERENCE_DATA:
        getattr(import_module(module), function)(apps, None)


@pytest.fixture
def city(db):
    ensure_reference_data()
    street = f.grid("ST", "八里街道", Level.STREET)
    community = f.grid("ST-BLZ", "八里庄社区", Level.COMMUNITY, street)
    other_community = f.grid("ST-HH", "和惠社区", Level.COMMUNITY, street)
    grid = f.grid("ST-BLZ-G01", "第一网格", Level.GRID, community)
    micro = f.grid("ST-BLZ-G01-M01", "第一微网格", Level.MICRO_GRID, grid)
    sibling_micro = f.grid("ST-BLZ-G01-M02", "第二微网格", Level.MICRO_GRID, grid)
    other_grid = f.grid("ST-HH-G01", "和惠一网格", Level.GRID, other_community)
    other_micro = f.grid("ST-HH-G01-M01", "和惠一微网格", Level.MICRO_GRID, other_grid)
    dedicated = f.grid("ST-BLZ-D01", "八里小学", Level.DEDICATED, community, kind="school")
    bldg = f.building(grid, "1栋")
    unit = f.unit(bldg, micro, "1单元")
    sibling_unit = f.unit(bldg, sibling_micro, "2单元")
    other_bldg = f.building(other_grid, "9栋")
    other_unit = f.unit(other_bldg, other_micro, "1单元")
    hh = f.household(unit, "101")
    sibling_hh = f.household(sibling_unit, "201")
    other_hh = f.household(other_unit, "301")
    res = f.resident(hh, "王秀英", phone="13812345678", tags=["elderly_alone"])
    sib_res = f.resident(sibling_hh, "李建国", phone="13900001111", id_number="110101195002021111")
    other_res = f.resident(other_hh, "赵敏", phone="13700002222", id_number="110101196003032222")
    worker = f.member(f.UserFactory(username="worker"), micro, Role.MICRO_GRID_WORKER)
    sibling_worker = f.member(f.UserFactory(username="sibling"), sibling_micro, Role.MICRO_GRID_WORKER)
    grid_worker = f.member(f.UserFactory(username="gridworker"), grid, Role.GRID_WORKER)
    secretary = f.member(f.UserFactory(username="secretary"), community, Role.SECRETARY)
    outsider = f.member(f.UserFactory(username="outsider"), other_community, Role.SECRETARY)
    dispatcher = f.member(f.UserFactory(username="dispatcher"), street, Role.STREET_DISPATCHER)
    viewer = f.member(f.UserFactory(username="viewer"), street, Role.VIEWER)
    dept = f.department(area=street)
    officer = f.officer(dept)
    admin = f.UserFactory(username="admin", is_superuser=True, is_staff=True)
    return City(street, community, other_community, grid, micro, sibling_micro, other_grid, other_micro, dedicated,
                bldg, unit, sibling_unit, hh, sibling_hh, other_hh, res, sib_res, other_res, worker, sibling_worker,
                grid_worker, secretary, outsider, dispatcher, viewer, dept, officer, admin)


@pytest.fixture
def client_for():
    def make(user, language="zh-hans"):
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
