"""Decide which database and broker the test run uses, and fail loudly in CI when one is missing.

Prints shell `export` lines for scripts/test.sh to eval; messages go to stderr.
"""

import os
import socket
import sys

PG_URL = "postgres://postgres@127.0.0.1:5432/gridcase"
REDIS_URL = "redis://127.0.0.1:6379/15"


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.5):
            return True
    except OSError:
        return False


def postgres_ok(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).strip().splitlines()[0]


def redis_ok(url: str) -> str | None:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)


def main() -> int:
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    db = os.environ.get("DATABASE_URL")
    broker = os.environ.get("CELERY_BROKER_URL")
    if not db and (ci or answers("127.0.0.1", 5432)):
        db = PG_URL
    if not broker and (ci or answers("127.0.0.1", 6379)):
        broker = REDIS_URL
    if db and db.startswith("postgres"):
        if (err := postgres_ok(db)) is not None:
            print(f"ERROR: PostgreSQL at {db} does not answer: {err}", file=sys.stderr)
            return 1
    elif ci:
        print("ERROR: CI=true needs PostgreSQL (set DATABASE_URL or run it on 127.0.0.1:5432)", file=sys.stderr)
        return 1
    if broker and broker.startswith("redis"):
        if (err := redis_ok(broker)) is not None:
            print(f"ERROR: Redis at {broker} does not answer: {err}", file=sys.stderr)
            return 1
    elif ci:
        print("ERROR: CI=true needs a Redis broker (set CELERY_BROKER_URL or run it on 127.0.0.1:6379)", file=sys.stderr)
        return 1
    print(f"Tests use database: {db or 'SQLite (no PostgreSQL answered)'}; broker: {broker or 'filesystem (no Redis answered)'}",
          file=sys.stderr)
    if db:
        print(f"export DATABASE_URL='{db}'")
    if broker:
        print(f"export CELERY_BROKER_URL='{broker}'")
        print("export GRIDCASE_TEST_BROKER=1")
    if ci:
        print("export GRIDCASE_REQUIRE_SERVICES=1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
