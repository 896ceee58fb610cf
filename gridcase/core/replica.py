"""Reads that may come from a PostgreSQL read replica: dashboards, stats, exports, reports.

With `REPLICA_DATABASE_URL` set, `DATABASES["replica"]` is a streaming standby of the primary. Code that only
reads and can live with a few seconds of lag runs inside `reads_from_replica()` (the API views of the stats
endpoints, exports and reports use `api.base.ReplicaReads`; background jobs wrap their reading part); the
router then sends that code's reads there. Everything else — every write, every read of a request that
writes, sign-in, scope checks — stays on the primary. Without a replica configured nothing changes.

`lag()` is the standby's replication lag in seconds (None without a replica), shown in `/readyz` and, above
`REPLICA_LAG_WARN_SECONDS`, in the console's footer.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
_reading: ContextVar[bool] = ContextVar("gridcase_replica_reads", default=False)


def configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reads_from_replica():
    """Reads inside this block go to the replica when one is configured (writes never do)."""
    token = _reading.set(configured())
    try:
        yield
    finally:
        _reading.reset(token)


def start_reading() -> object:
    """`reads_from_replica()` for code that cannot use a with-block (a view's initial/finalize): returns
    the token `stop_reading` takes."""
    return _reading.set(configured())


def stop_reading(token) -> None:
    _reading.reset(token)


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads inside `reads_from_replica()` go to the replica; all else to default."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reading.get() else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the standby replays the primary's migrations


LAG_SQL = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""


def lag() -> float | None:
    """Seconds the replica is behind the primary (0 when it has replayed all it received); None without one.
    Raises when the replica does not answer."""
    if not configured():
        return None
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(LAG_SQL)
        value = cursor.fetchone()[0]
    return None if value is None else float(value)


def status() -> tuple[float | None, list[dict]]:
    """(lag in seconds or None, operator warnings) for /readyz and the console's banner: a replica that does
    not answer, or one more than REPLICA_LAG_WARN_SECONDS behind (dashboards then show older figures)."""
    from django.utils.translation import gettext

    if not configured():
        return None, []
    try:
        seconds = lag()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised to the caller
        return None, [{"code": "replica_unavailable",
                       "message": gettext("The read replica does not answer (%(error)s): dashboards and exports "
                                          "fail until it is back.") % {"error": exc.__class__.__name__}}]
    if seconds is not None and seconds > settings.REPLICA_LAG_WARN_SECONDS:
        return seconds, [{"code": "replica_lag", "lag_seconds": round(seconds, 1),
                          "message": gettext("The read replica is %(seconds)d s behind: dashboards and exports "
                                             "show data as of then.") % {"seconds": seconds}}]
    return seconds, []
