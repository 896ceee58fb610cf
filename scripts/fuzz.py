"""`make fuzz`: the longer schemathesis run (`make test` runs a small one with a fixed seed).

1. In-process over the test world (tests/fuzz): every operation as a micro-grid worker and as the street
   dispatcher, FUZZ_MAX_EXAMPLES examples each (default 100), a fresh seed each run (FUZZ_SEED=<n> repeats one).
2. Over HTTP: gunicorn (deploy/gunicorn.conf.py) serving the demo city from a throwaway database, fuzzed by
   the schemathesis CLI (examples, coverage and fuzzing phases) as `micro0101` and `street`, with the ids of
   real objects offered for path parameters most of the time.

Both fail on any 5xx, any status code the schema does not document, any response or content type that breaks
the schema, and any request the schema calls invalid that the API accepts. At the end it prints how many
requests were sent and how many operations were covered.

Environment: FUZZ_MAX_EXAMPLES, FUZZ_SEED, FUZZ_PORT (default 8099), FUZZ_DATABASE (name of the throwaway
PostgreSQL database, default gridcase_fuzz; SQLite when PostgreSQL does not answer), FUZZ_SKIP (inprocess
or live). Run through scripts/fuzz.sh, which chooses the test services as `make test` does.
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "negative_data_rejection,unsupported_method")
ROLES = {"micro0101": "micro-grid worker", "street": "street dispatcher"}
# Signing out, rotating the token or changing one's own password would end the live run's token: these are
# fuzzed in-process only (a fresh world per operation).
LIVE_SKIP_PATHS = "^/api/v1/auth/(logout|token)"
LIVE_SKIP_IDS = ("v1_users_partial_update",)
# Path parameters filled with real ids (in micro0101's micro-grid, so both roles see them) this often.
REAL_ID_PROBABILITY = 0.8
RESOURCES = ["cases", "grids", "buildings", "units", "households", "residents", "visits", "care-plans",
             "memberships", "users", "notifications", "departments", "categories"]


def say(text):
    print(text, flush=True)


# --- 1. in-process ---------------------------------------------------------------------------------------------

def in_process(work: Path, examples: int, seed: str) -> dict:
    log = work / "inprocess.jsonl"
    env = dict(os.environ, FUZZ_MAX_EXAMPLES=str(examples), FUZZ_SEED=seed, FUZZ_LOG=str(log),
               GRIDCASE_DATA_DIR=str(work / "inprocess-data"))
    say(f"== 1/2 in-process: every operation as two roles, {examples} examples each (seed {seed})")
    code = subprocess.call([str(VENV / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "fuzz",
                            "-n", os.environ.get("PYTEST_WORKERS", "2"), "tests/fuzz"], cwd=ROOT, env=env)
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return {"ok": code == 0, "requests": sum(r["requests"] for r in rows),
            "operations": {o.split(" as ")[0] for r in rows for o in r["operations"]}}


# --- 2. live server --------------------------------------------------------------------------------------------

def database_url(work: Path) -> tuple[str, callable]:
    """A throwaway database on the test PostgreSQL server (created afresh), or SQLite in the work folder."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{work / 'fuzz.sqlite3'}", lambda: None
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = os.environ.get("FUZZ_DATABASE", "gridcase_fuzz")
    url = base.replace("postgres://", "postgresql://", 1)
    admin = make_conninfo(url, dbname="postgres")

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    drop()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(url)
    user = params.get("user", "postgres")
    host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
    return f"postgres://{user}@{host}:{port}/{name}", drop


def http(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def login(base, username) -> str:
    return http("POST", f"{base}/api/v1/auth/login/", body={"username": username, "password": "gridcase123"})["token"]


def wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer at {url}")


def real_ids(base, token) -> dict:
    ids = {}
    for resource in RESOURCES:
        try:
            page = http("GET", f"{base}/api/v1/{resource}/?page_size=5" if resource != "categories"
                        else f"{base}/api/v1/{resource}/", token)
        except urllib.error.HTTPError:
            continue
        rows = page["results"] if isinstance(page, dict) else page
        ids[resource] = [str(row["id"]) for row in rows[:5] if "id" in row]
    return {k: v for k, v in ids.items() if v}


def id_type(schema, resource) -> str:
    for path, ops in schema["paths"].items():
        if path.startswith(f"/api/v1/{resource}/{{id}}/"):
            for op in ops.values():
                for param in op.get("parameters", []) if isinstance(op, dict) else []:
                    if param["in"] == "path" and param["name"] == "id":
                        return param["schema"].get("type", "string")
    return "string"


def config_file(work: Path, ids: dict, schema: dict) -> Path:
    """Real ids for `{id}` (typed as the schema types that resource's id), offered most of the time."""
    lines = ["[cache]", "enabled = false", ""]
    for resource, values in ids.items():
        key = resource.replace("-", "_")
        typed = [int(v) for v in values] if id_type(schema, resource) == "integer" else values
        lines += [f"[dictionaries.{key}]", f"values = {json.dumps(typed)}", ""]
    for resource in ids:
        key = resource.replace("-", "_")
        lines += ["[[operations]]", f'include-path-regex = "^/api/v1/{resource}/\\\\{{id\\\\}}/"',
                  f'parameters = {{ "path.id" = {{ dictionary = "{key}", probability = {REAL_ID_PROBABILITY} }} }}',
                  ""]
    path = work / "schemathesis.toml"
    path.write_text("\n".join(lines))
    return path


def live(work: Path, examples: int, seed: str) -> dict:
    port = int(os.environ.get("FUZZ_PORT", "8099"))
    base = f"http://127.0.0.1:{port}"
    url, drop = database_url(work)
    data_dir = work / "live-data"
    # No worker recycling mid-run (gunicorn restarts a worker every GUNICORN_MAX_REQUESTS requests by default).
    env = dict(os.environ, DATABASE_URL=url, GRIDCASE_DATA_DIR=str(data_dir), CELERY_BROKER_URL="filesystem://",
               GRIDCASE_DEV="true", GUNICORN_MAX_REQUESTS="0")
    env.pop("CACHE_URL", None)
    say(f"== 2/2 live: gunicorn on {base}, the demo city in {url.rsplit('/', 1)[-1]}")
    python = str(VENV / "python")
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "seed", "demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    access = work / "access.log"
    server_log = (work / "server.out").open("w")
    server = subprocess.Popen([str(VENV / "gunicorn"), "gridcase.wsgi:application", "--config",
                               "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--access-logfile", str(access), "--error-logfile", str(work / "server.log")],
                              cwd=ROOT, env=env, start_new_session=True, stdout=server_log, stderr=server_log)
    results = {"ok": True, "requests": 0, "operations": set()}
    try:
        wait_for(f"{base}/healthz")
        schema = http("GET", f"{base}/api/schema/?format=json")
        config = config_file(work, real_ids(base, login(base, "micro0101")), schema)
        results["operations"] = {f"{m.upper()} {p}" for p, ops in schema["paths"].items() for m, op in ops.items()
                                 if m in ("get", "post", "put", "patch", "delete")
                                 and not re.match(LIVE_SKIP_PATHS, p) and op.get("operationId") not in LIVE_SKIP_IDS}
        for user, role in ROLES.items():
            say(f"-- as {user} ({role})")
            command = [str(VENV / "schemathesis"), "--config-file", str(config), "run",
                       f"{base}/api/schema/?format=json", "-H", f"Authorization: Token {login(base, user)}",
                       "--checks", CHECKS, "--phases", "examples,coverage,fuzzing", "--max-examples", str(examples),
                       "--exclude-path-regex", LIVE_SKIP_PATHS,
                       *[arg for op_id in LIVE_SKIP_IDS for arg in ("--exclude-operation-id", op_id)],
                       # A shared 2-core machine answers slowly under two fuzzing workers: 30 s, not 10 s.
                       "--workers", "2", "--request-timeout", "30", "--suppress-health-check", "all",
                       "--report", "junit",
                       "--report-dir", str(work / f"report-{user}")]
            if seed != "random":
                command += ["--seed", seed]
            if subprocess.call(command, cwd=work, env=env) != 0:
                results["ok"] = False
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()
        drop()
    results["requests"] = sum(1 for _ in access.open()) if access.exists() else 0
    return results


def main() -> int:
    examples = int(os.environ.get("FUZZ_MAX_EXAMPLES", "100"))
    seed = os.environ.get("FUZZ_SEED") or str(random.randrange(1, 2**31))
    skip = os.environ.get("FUZZ_SKIP", "")
    work = Path(tempfile.mkdtemp(prefix="gridcase-fuzz-"))
    started = time.monotonic()
    parts = {}
    if skip != "inprocess":
        parts["in-process"] = in_process(work, examples, seed)
    if skip != "live":
        parts["live"] = live(work, examples, seed)
    say("")
    say(f"== fuzz summary (seed {seed}, {examples} examples per operation and role, "
        f"{time.monotonic() - started:.0f} s)")
    for name, result in parts.items():
        say(f"   {name:10} {'passed' if result['ok'] else 'FAILED'}: {result['requests']} requests, "
            f"{len(result['operations'])} operations")
    ok = all(r["ok"] for r in parts.values())
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"   reports and server logs kept in {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
