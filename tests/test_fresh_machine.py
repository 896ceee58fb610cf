"""A fresh machine runs PostgreSQL but has no GridCase database yet: `make test` and `make run` create it
instead of stopping at "database … does not exist"."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs a PostgreSQL server"),
]


def server_url(dbname: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{dbname}"


def exists(name: str) -> bool:
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


@pytest.mark.parametrize("mode", [["--ensure-db"], []], ids=["make-run", "make-test"])
def test_a_database_that_does_not_exist_is_created(mode):
    name = f"gridcase_fresh_{uuid.uuid4().hex[:10]}"
    assert not exists(name)
    env = {**os.environ, "DATABASE_URL": server_url(name).replace("postgresql://", "postgres://")}
    try:
        done = subprocess.run([sys.executable, "scripts/services.py", *mode], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert exists(name)
        # A second run finds it and creates nothing.
        again = subprocess.run([sys.executable, "scripts/services.py", *mode], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and "Created" not in again.stderr
    finally:
        with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_an_unreachable_server_fails_loudly():
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/gridcase", "CI": "true"}
    done = subprocess.run([sys.executable, "scripts/services.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "does not answer" in done.stderr
