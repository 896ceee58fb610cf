"""Fixtures for the fault tests: our own Redis, a webhook receiver, the real WSGI handler in a thread.

Tests marked `faults` are the long run (`make faults`, scripts/faults.sh): skipped unless GRIDCASE_FAULTS=1.
The others are quick and run in `make test`.
"""

import os
import shutil

import pytest

from tests.cases.conftest import category, ensure_taxonomy  # noqa: F401 - fixtures shared with cases tests

from .support import SECRET, Receiver, RedisServer, ServerThread


def pytest_collection_modifyitems(config, items):
    if os.environ.get("GRIDCASE_FAULTS"):
        return
    skip = pytest.mark.skip(reason="the long fault run: make faults (GRIDCASE_FAULTS=1)")
    for item in items:
        if item.get_closest_marker("faults"):
            item.add_marker(skip)


@pytest.fixture
def redis():
    if not shutil.which("redis-server"):
        if os.environ.get("GRIDCASE_REQUIRE_SERVICES") or os.environ.get("GRIDCASE_FAULTS"):
            pytest.fail("redis-server is needed: the fault tests stop and start a Redis of their own")
        pytest.skip("redis-server is not installed")
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def receiver(settings):
    r = Receiver()
    settings.NOTIFICATION_CHANNELS = ["webhook"]
    settings.NOTIFICATION_WEBHOOK_URL = r.url
    settings.NOTIFICATION_WEBHOOK_SECRET = SECRET
    yield r
    r.close()


@pytest.fixture
def server(transactional_db):
    s = ServerThread()
    yield s
    s.close()


@pytest.fixture
def taxonomy(transactional_db):
    ensure_taxonomy()
