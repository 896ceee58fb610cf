"""The read replica: a real PostgreSQL streaming standby of the test cluster (pg_basebackup), started on another
port for this module. Dashboards read there, writes and sign-in never do, and /readyz reports the lag.

Needs a replication entry in the server's pg_hba.conf (`.ci/run` adds `host replication all 127.0.0.1/32 trust`);
in CI a missing one fails, elsewhere the module is skipped saying why."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from gridcase.cases.models import Category
from gridcase.core import replica
from gridcase.stats import rollup

from .helpers import fixture

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
pytestmark = [pytest.mark.postgres]


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(reason: str):
    if CI:
        pytest.fail(f"the replica test cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module", autouse=True)
def standby(django_db_setup, django_db_blocker):
    """A streaming standby of the cluster holding the test database, registered as the `replica` alias."""
    if connection.vendor != "postgresql":
        _unavailable("the replica needs PostgreSQL")
    primary = connection.settings_dict
    root = Path(tempfile.mkdtemp(prefix="gridcase-standby-"))  # not under pytest's root-only temp folder
    as_postgres = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the cluster belongs to the postgres user
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    backup = subprocess.run([*as_postgres, _bin("pg_basebackup"), "-h", primary["HOST"] or "127.0.0.1",
                             "-p", str(primary["PORT"] or 5432), "-U", primary["USER"] or "postgres", "-D", str(data),
                             "-R", "-X", "stream", "--checkpoint=fast"], capture_output=True, text=True)
    if backup.returncode:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"pg_basebackup failed: {backup.stderr.strip()[:300]} (does pg_hba.conf allow replication?)")
    config = {"postgresql.conf": f"listen_addresses='127.0.0.1'\nport={port}\nunix_socket_directories='{root}'\n"
                                 "hot_standby=on\n",
              "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n", "pg_ident.conf": ""}
    for name, text in config.items():
        (data / name).write_text(text)
        if as_postgres:
            shutil.chown(data / name, "postgres", "postgres")
    subprocess.run([*as_postgres, _bin("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "120",
                    "start"], check=True, capture_output=True)
    settings.DATABASES["replica"] = connections.settings["replica"] = {
        **primary, "PORT": str(port), "TEST": {**primary.get("TEST", {}), "MIRROR": "default"}}
    try:
        yield port
    finally:
        connections["replica"].close()
        del connections["replica"]
        connections.settings.pop("replica", None)
        settings.DATABASES.pop("replica", None)
        subprocess.run([*as_postgres, _bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


CHECK = "SELECT (SELECT count(*) FROM cases_case), (SELECT count(*) FROM stats_casedailyrollup), " \
        "(SELECT max(id) FROM cases_caseevent)"


def caught_up(timeout: float = 120) -> None:
    """Wait until the standby shows what the primary has committed so far (cases, rollups, events)."""
    with connection.cursor() as cursor:
        cursor.execute(CHECK)
        expected = cursor.fetchone()
    deadline = time.monotonic() + timeout
    with connections["replica"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(CHECK)
            if cursor.fetchone() == expected:
                return
            time.sleep(0.1)
    raise AssertionError(f"the standby did not show {expected} within {timeout} s")


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_dashboard_reads_from_the_streaming_replica_and_writes_stay_on_the_primary(city, client_for):
    fixture(city)
    rollup.rebuild()
    caught_up()
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True  # a real standby, not the primary under another name
    client = client_for(city.secretary)
    params = {"grid": city.community.pk, "from": "2026-03-01", "to": "2026-03-07"}
    with CaptureQueriesContext(connection) as on_primary, \
            CaptureQueriesContext(connections["replica"]) as on_replica:
        r = client.get("/api/v1/stats/summary/", params)
    assert r.status_code == 200, r.content
    from_replica = r.json()
    assert from_replica["total"] == 6  # the hand-computed week (tests/stats/helpers.py), as on the primary
    read_there = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "stats_casedailyrollup" in read_there
    assert "stats_casedailyrollup" not in " ".join(q["sql"] for q in on_primary.captured_queries)
    # Without the replica the same request answers the same figures from the primary.
    replica_settings = settings.DATABASES.pop("replica")
    try:
        with CaptureQueriesContext(connections["replica"]) as unused:
            assert client.get("/api/v1/stats/summary/", params).json() == from_replica
        assert not unused.captured_queries
    finally:
        settings.DATABASES["replica"] = connections.settings["replica"] = replica_settings
    # A write (a case reported) never goes to the replica, which could not take it anyway.
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        r = client_for(city.worker).post("/api/v1/cases/", {
            "category": Category.objects.filter(code="safety_fire").get().pk,
            "grid": city.micro.pk, "title": "楼道灯不亮", "description": "三楼"}, format="json")
    assert r.status_code == 201, r.content
    assert not on_replica.captured_queries


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_readyz_reports_the_replica_lag_and_warns_past_the_threshold(client, settings):
    caught_up()
    body = client.get("/readyz").json()
    # Caught up: no lag, or the fraction of a second it takes to replay what other writers (other test processes,
    # other databases of the cluster) committed meanwhile; well under the 30 s threshold, so no warning.
    assert 0 <= body["details"]["replica_lag_seconds"] < 5
    assert not [w for w in body["warnings"] if w["code"].startswith("replica")]
    settings.REPLICA_LAG_WARN_SECONDS = -1  # any lag, even none, is "too much": the warning shows
    body = client.get("/readyz").json()
    assert [w["code"] for w in body["warnings"] if w["code"].startswith("replica")] == ["replica_lag"]
    assert 0 <= replica.lag() < 5


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_exports_and_the_monthly_report_read_their_rows_from_the_replica(city, client_for):
    from gridcase.jobs.models import Job  # noqa: PLC0415
    from gridcase.reports import monthly  # noqa: PLC0415

    fixture(city)
    rollup.rebuild()
    caught_up()
    client = client_for(city.secretary)
    with CaptureQueriesContext(connection) as on_primary, \
            CaptureQueriesContext(connections["replica"]) as on_replica:
        r = client.get("/api/v1/cases/export/", {"within": city.community.pk})
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "FROM \"cases_case\"" in " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "FROM \"cases_case\"" not in " ".join(q["sql"] for q in on_primary.captured_queries)
    # The monthly report's figures too; the job's own bookkeeping (a write) stays on the primary.
    job = Job.objects.create(owner=city.secretary, kind="monthly_report",
                             params={"grid": city.community.pk, "month": "2026-03"})
    with CaptureQueriesContext(connection) as on_primary, \
            CaptureQueriesContext(connections["replica"]) as on_replica:
        monthly.run_job(job, lambda *a, **k: None)
    assert "stats_casedailyrollup" in " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "stats_casedailyrollup" not in " ".join(q["sql"] for q in on_primary.captured_queries)
