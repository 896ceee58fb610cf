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


def ensure_database(url: str) -> str | None:
    """Check the PostgreSQL server through its maintenance database and create the named database when it
    does not exist yet (a fresh machine has the server but no GridCase database). None when all is well."""
    try:
        import psycopg
        from psycopg import sql
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        url = url.replace("postgres://", "postgresql://", 1)
        params = conninfo_to_dict(url)
        name = params.get("dbname") or "postgres"
        with psycopg.connect(make_conninfo(url, dbname="postgres"), connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created PostgreSQL database {name!r}.", file=sys.stderr)
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).strip().splitlines()[0]


postgres_ok = ensure_database


def redis_ok(url: str) -> str | None:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc)


def main() -> int:
    if sys.argv[1:] == ["--ensure-db"]:
        # `make run` / `make migrate`: create the PostgreSQL database DATABASE_URL names, if any.
        db = os.environ.get("DATABASE_URL", "")
        if db.startswith("postgres") and (err := ensure_database(db)) is not None:
            print(f"ERROR: PostgreSQL at {db} does not answer: {err}", file=sys.stderr)
            return 1
        return 0
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
        if broker.startswith("redis"):  # the login throttles on a shared Redis cache, as in production
            print(f"export CACHE_URL='{broker.rsplit('/', 1)[0]}/14'")
    if ci:
        print("export GRIDCASE_REQUIRE_SERVICES=1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
