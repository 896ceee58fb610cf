"""Benchmark: the endpoints users wait on, through gunicorn and wrk on loopback, beside a trivial endpoint.

Starts gunicorn with deploy/gunicorn.conf.py (2 workers unless --workers; its threads, no worker recycling unless
GUNICORN_MAX_REQUESTS says so) and production settings (GRIDCASE_DEV=false, DEBUG off, TLS proxy headers as nginx
sends them) against DATABASE_URL, signs in through the API's login (token auth, as an integration does), and
drives each endpoint with wrk for --duration seconds at each of --connections (default 1 and 16):

- ceiling: the tag list (a trivial DRF list with token auth: the same stack, almost no work);
- the worker's queue, the street's case list, case detail (rotating over 50 cases of the street), the due round;
- a transition (`accept`, each request a different reported case of the street, with its version);
- a create (a new case in the worker's micro-grid, each with its own client_key, as the phone sends it).

Prints requests/s, median and p99 latency, non-2xx answers, and each endpoint's requests/s as a fraction of the
ceiling's at the same connections (goals: >= 0.5 for lists, detail and the due round, >= 0.3 for a transition and
a create). Nothing here asserts. The transition and the create write cases into the database (the create first,
so its cases join the transition's pool; the pool is topped up through the live service if it is short).

    DATABASE_URL=postgres://…/gridcase_city python -m tests.benchmarks.http [--duration 10] [--connections 1,16]
        [--port 8040] [--workers 2] [--only detail,create] [--peer-spec peer.json] [--json out.json]

`--peer-spec FILE` measures another system in the same run with the same wrk scripts: a JSON object
{"name": "…", "url": "http://127.0.0.1:PORT", "headers": {…}, "endpoints": [{"label": "ceiling"|"detail"|…,
"method": "GET"|"POST", "paths": ["/…"], "body": "… {n} …"}]} (`{n}` in a body becomes a unique number).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from gridcase.cases.models import Case, Category  # noqa: E402
from gridcase.core.seeding import DEMO_PASSWORD  # noqa: E402
from gridcase.grids.models import Grid, Membership  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
User = get_user_model()
# What nginx adds in front of gunicorn (deploy/nginx.conf): the server then runs with its TLS settings on.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
GOALS = {"ceiling": None, "queue": 0.5, "street list": 0.5, "detail": 0.5, "due round": 0.5, "transition": 0.3,
         "create": 0.3}


# --- the server ------------------------------------------------------------------------------------------------

def server_env(port: int, workers: int, log_dir: Path) -> dict:
    """Production settings, with this checkout's keys (the database's personal data was encrypted with them)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "DJANGO_"))}
    return {
        **keep,
        "GRIDCASE_DEV": "false", "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY, "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "CSRF_TRUSTED_ORIGINS": "https://127.0.0.1",
        "BEHIND_TLS_PROXY": "true", "SECURE_SSL_REDIRECT": "true", "TRUSTED_PROXY_COUNT": "1",
        "FORWARDED_ALLOW_IPS": "127.0.0.1", "PUBLIC_URL": "https://127.0.0.1",
        # A benchmark signs in a few times per run: the login throttle is for people guessing passwords.
        "LOGIN_THROTTLE_RATE": "1000/hour",
        "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
        "GUNICORN_ACCESSLOG": str(log_dir / "access.log"),
        "GRIDCASE_DATA_DIR": str(log_dir / "data"), "MEDIA_ROOT": str(log_dir / "media"),
    }


def start_server(port: int, workers: int, log_dir: Path) -> subprocess.Popen:
    env = server_env(port, workers, log_dir)
    log = open(log_dir / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(VENV_BIN / "gunicorn"), "gridcase.wsgi:application", "--config",
                             "deploy/gunicorn.conf.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited ({proc.returncode}); see {log_dir / 'gunicorn.log'}")
        try:
            urllib.request.urlopen(urllib.request.Request(url + "/healthz", headers=PROXY_HEADERS), timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit("gunicorn did not answer on /healthz")


def gunicorn_conf() -> str:
    """What deploy/gunicorn.conf.py ships (recycling a worker every N requests costs throughput)."""
    text = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    found = {k: re.search(rf'"{k}", ([^)]+)\)', text) for k in ("GUNICORN_MAX_REQUESTS", "GUNICORN_THREADS")}
    return ", ".join(f"{k.removeprefix('GUNICORN_').lower()} default {m.group(1) if m else '?'}"
                     for k, m in found.items())


def login(url: str, username: str) -> str:
    body = json.dumps({"username": username, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(url + "/api/v1/auth/login/", data=body, method="POST", headers={
        **PROXY_HEADERS, "Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["token"]


# --- wrk -------------------------------------------------------------------------------------------------------

LUA = r"""
local method, paths, body, headers = %(method)s, %(paths)s, %(body)s, %(headers)s
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
local n = 0
function init(args)
  nthreads = counter
end
function request()
  -- thread t sends paths t, t + nthreads, t + 2 * nthreads … (a transition never acts twice on one case)
  local i = (n * %(nthreads)d + tid) %% #paths + 1
  n = n + 1
  local b = nil
  if body then b = string.gsub(body, "{n}", tid .. "-" .. n) end
  return wrk.format(method, paths[i], headers, b)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "socket_errors": %%d, "p50_us": %%d, ' ..
    '"p90_us": %%d, "p99_us": %%d, "mean_us": %%f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


def lua_string(text):
    return "nil" if text is None else json.dumps(text, ensure_ascii=True)


def lua_script(method, paths, body, headers, nthreads) -> str:
    # JSON strings are valid Lua strings for ASCII text (ensure_ascii escapes everything else as \uXXXX,
    # which Lua 5.1 does not read: bodies are kept ASCII).
    return LUA % {"method": lua_string(method), "paths": "{" + ",".join(lua_string(p) for p in paths) + "}",
                  "body": lua_string(body),
                  "headers": "{" + ",".join(f"[{lua_string(k)}]={lua_string(v)}" for k, v in headers.items()) + "}",
                  "nthreads": nthreads}


def run_wrk(base, endpoint, headers, connections, duration, tmp: Path) -> dict:
    threads = 1 if connections == 1 else 2  # two cores, shared with the server: wrk stays small
    script = tmp / f"bench-{uuid.uuid4().hex[:8]}.lua"
    script.write_text(lua_script(endpoint["method"], endpoint["paths"], endpoint.get("body"), headers, threads))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s",
                          "-s", str(script), base + endpoint["paths"][0]], capture_output=True, text=True, check=True)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[len("RESULT "):])
    seconds = r["duration_us"] / 1e6
    return {"rps": round(r["requests"] / seconds, 1), "requests": r["requests"], "p50_ms": round(r["p50_us"] / 1000, 1),
            "p99_ms": round(r["p99_us"] / 1000, 1), "non2xx": r["non2xx"], "socket_errors": r["socket_errors"]}


# --- what to measure ---------------------------------------------------------------------------------------------

def first_user(role, level):
    m = (Membership.objects.filter(role=role, grid__level=level).select_related("user", "grid").order_by("id")
         .first())
    if m is None:
        sys.exit(f"no {role} at a {level} in this database: load a city first (`gridcase seed city`)")
    return m.user, m.grid


def reported_pool(street_user, need: int, exclude=()) -> list[int]:
    """Reported cases (never edited: version 1) the street's dispatcher may accept, newest first."""
    qs = Case.objects.restrict(street_user).filter(status="reported", version=1).exclude(pk__in=list(exclude))
    return list(qs.order_by("-id").values_list("id", flat=True)[:need])


def top_up(pool, need, worker, micro, category):
    """Report cases through the live service (no shortcut) until the transition has `need` to accept."""
    from gridcase.cases import services  # noqa: PLC0415

    started = time.perf_counter()
    made = 0
    while len(pool) < need:
        case = services.create_case(worker, {"category": category, "grid": micro, "title": "bench pool",
                                             "description": "tests.benchmarks.http"}).case
        pool.append(case.pk)
        made += 1
    if made:
        print(f"  (reported {made} more cases through the service for the transition in "
              f"{time.perf_counter() - started:.0f} s)")
    return pool


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint and connection count")
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--port", type=int, default=8040)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", help="comma-separated labels (ceiling is always measured)")
    parser.add_argument("--peer-spec", help="JSON file describing another system's endpoints (see the docstring)")
    parser.add_argument("--transition-rate", type=int, default=150,
                        help="accepts per second per connection count the pool is sized for")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    wanted = set(args.only.split(",")) | {"ceiling"} if args.only else set(GOALS)

    worker, micro = first_user("micro_grid_worker", "micro_grid")
    street_user, street = first_user("street_dispatcher", "street")
    category = Category.objects.filter(code="env_drain").first() or Category.objects.filter(
        is_active=True, sensitive=False, parent__isnull=False).order_by("id").first()
    details = list(Case.objects.restrict(street_user).order_by("-id").values_list("id", flat=True)[:50])
    cases = Case.objects.count()
    print(f"database: {settings.DATABASES['default']['NAME']}, {cases:,} cases, {Grid.objects.count():,} grids; "
          f"worker {worker.username} ({micro.code}), dispatcher {street_user.username} ({street.code})")
    print(f"gunicorn: {args.workers} workers, deploy/gunicorn.conf.py ({gunicorn_conf()}); wrk {args.duration} s "
          f"per run; connections {conns}; server, database and wrk share this machine's {os.cpu_count()} cores")

    tmp = Path(tempfile.mkdtemp(prefix="gridcase-http-"))
    run_id = uuid.uuid4().hex[:8]
    proc = start_server(args.port, args.workers, tmp)
    base = f"http://127.0.0.1:{args.port}"
    results = []
    try:
        tokens = {u.username: login(base, u.username) for u in (worker, street_user)}

        def auth(user, post=False):
            h = {**PROXY_HEADERS, "Accept": "application/json", "Authorization": f"Token {tokens[user.username]}"}
            if post:
                h["Content-Type"] = "application/json"
            return h

        create_body = json.dumps({"category": category.pk, "grid": micro.pk, "title": f"wrk {run_id} {{n}}",
                                  "description": "tests.benchmarks.http", "client_key": f"wrk-{run_id}-{{n}}"})
        plan = [
            ("ceiling", worker, {"method": "GET", "paths": ["/api/v1/tags/"]}),
            ("queue", worker, {"method": "GET", "paths": ["/api/v1/cases/?assignee=me"]}),
            ("street list", street_user, {"method": "GET", "paths": [f"/api/v1/cases/?within={street.pk}"]}),
            ("detail", street_user, {"method": "GET", "paths": [f"/api/v1/cases/{i}/" for i in details]}),
            ("due round", worker, {"method": "GET", "paths": ["/api/v1/visits/due/"]}),
            ("create", worker, {"method": "POST", "paths": ["/api/v1/cases/"], "body": create_body}),
            ("transition", street_user, None),  # its pool is read after the create ran
        ]
        used: set = set()
        for label, user, endpoint in plan:
            if label not in wanted:
                continue
            for c in conns:
                if label == "transition":
                    need = args.transition_rate * args.duration * (2 if c > 1 else 1)
                    pool = top_up(reported_pool(street_user, need, used), need, worker, micro, category)
                    used.update(pool)
                    endpoint = {"method": "POST", "paths": [f"/api/v1/cases/{pk}/accept/" for pk in pool],
                                "body": '{"version": 1}'}
                r = run_wrk(base, endpoint, auth(user, endpoint["method"] == "POST"), c, args.duration, tmp)
                results.append({"system": "gridcase", "endpoint": label, "connections": c, **r})
                print(f"  {label:<12} c={c:<3} {r['rps']:>7} req/s  p50 {r['p50_ms']:>7} ms  p99 {r['p99_ms']:>7} ms"
                      + (f"  non-2xx {r['non2xx']}" if r["non2xx"] else ""), flush=True)
        if args.peer_spec:
            results += measure_peer(json.loads(Path(args.peer_spec).read_text()), conns, args.duration, tmp)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    report(results, conns)
    if args.json:
        Path(args.json).write_text(json.dumps({"cases": cases, "results": results}, indent=2))
    return 0


def measure_peer(spec, conns, duration, tmp) -> list[dict]:
    out = []
    headers = {"Accept": "application/json", **spec.get("headers", {})}
    for endpoint in spec["endpoints"]:
        h = dict(headers)
        if endpoint.get("method", "GET") == "POST":
            h.setdefault("Content-Type", "application/json")
        for c in conns:
            r = run_wrk(spec["url"], {"method": endpoint.get("method", "GET"), "paths": endpoint["paths"],
                                      "body": endpoint.get("body")}, h, c, duration, tmp)
            out.append({"system": spec.get("name", "peer"), "endpoint": endpoint["label"], "connections": c, **r})
            print(f"  {spec.get('name', 'peer')}: {endpoint['label']:<12} c={c:<3} {r['rps']:>7} req/s  "
                  f"p50 {r['p50_ms']:>7} ms", flush=True)
    return out


def report(results, conns):
    systems = list(dict.fromkeys(r["system"] for r in results))
    for system in systems:
        rows = [r for r in results if r["system"] == system]
        ceiling = {r["connections"]: r["rps"] for r in rows if r["endpoint"] == "ceiling"}
        print(f"\n{system}: requests/s (p50 ms) and fraction of the ceiling at the same connections")
        print(f"{'endpoint':<14}" + "".join(f"{f'c={c}':>30}" for c in conns) + f"{'goal':>8}")
        for label in dict.fromkeys(r["endpoint"] for r in rows):
            line = f"{label:<14}"
            for c in conns:
                r = next((x for x in rows if x["endpoint"] == label and x["connections"] == c), None)
                if r is None:
                    line += f"{'-':>30}"
                    continue
                frac = r["rps"] / ceiling[c] if ceiling.get(c) else None
                r["x_ceiling"] = round(frac, 2) if frac is not None else None
                cell = f"{r['rps']:.1f} ({r['p50_ms']} ms) {frac:.2f}" if frac is not None else f"{r['rps']:.1f}"
                if r["non2xx"] or r["socket_errors"]:
                    cell += "!"
                line += f"{cell:>30}"
            goal = GOALS.get(label)
            print(line + (f"{'>= ' + str(goal):>8}" if goal else ""))
    if len(systems) > 1:
        base, peer = systems[0], systems[1]
        print(f"\n{base} / {peer} (requests/s)")
        for label in dict.fromkeys(r["endpoint"] for r in results if r["system"] == peer):
            for c in conns:
                a = next((r for r in results if r["system"] == base and r["endpoint"] == label
                          and r["connections"] == c), None)
                b = next((r for r in results if r["system"] == peer and r["endpoint"] == label
                          and r["connections"] == c), None)
                if a and b and b["rps"]:
                    print(f"  {label:<14} c={c:<3} {a['rps'] / b['rps']:.2f}x")
    if any(r["non2xx"] or r["socket_errors"] for r in results):
        print("\n! some answers were not 2xx or sockets failed: see the non2xx / socket_errors in --json")


if __name__ == "__main__":
    sys.exit(main())
