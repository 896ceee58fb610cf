"""`make smoke`: the production stack from `deploy/`, started as processes on loopback ports and driven over HTTP.

nginx (deploy/nginx.conf, only its upstream, listen address and paths rewritten) in front of gunicorn
(deploy/gunicorn.conf.py), one Celery worker per queue group (deploy/README.md, "Queues"), a separate beat,
PostgreSQL and Redis — production settings (GRIDCASE_DEV=false, `check --deploy` clean, DEBUG off), a new
database that is dropped at the end. The client talks to nginx from another loopback address (127.0.0.2)
as a TLS-terminating balancer would (X-Forwarded-Proto: https), so the audit log must show that address.

It checks, printing each step: security headers and the HTTPS redirect, precompressed immutable assets and
an uncached index, gzip on API answers, the upload size limit, a case driven through its whole lifecycle
(report → accept → assign → start → resolve → verify → close), the real client address in the audit log,
and one SLA breach: a short policy (red after 72 s) lets beat → sweep → outbox → webhook run, and the
breach notice must arrive exactly once. Everything it started is stopped, whatever happens.

Needs PostgreSQL and Redis on 127.0.0.1 (or SMOKE_DATABASE_URL / SMOKE_REDIS_URL), nginx, and the built
frontend (`make frontend`).
"""

import gzip
import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_SERVER = os.environ.get("SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/12")
CLIENT_ADDRESS = "127.0.0.2"  # the "internet" side: any loopback address other than nginx's own
SLA_RED_SECONDS = 72  # the shortest policy the model allows (0.02 h), counted in calendar time
# Worker groups, as in deploy/compose.yaml: slow jobs never hold the queue of breach warnings.
WORKERS = {"urgent": "notifications,sla", "bulk": "rollups,imports,exports,celery"}


def say(message: str) -> None:
    print(f"[smoke {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Failed(Exception):
    pass


def check(condition, message: str) -> None:
    if not condition:
        raise Failed(message)
    say(f"ok  {message}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a webhook receiver: the "WeCom robot" the outbox posts to ---------------------------------------------------

class Hooks:
    def __init__(self):
        self.received: list[dict] = []
        self.lock = threading.Lock()
        hooks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hooks.lock:
                    hooks.received.append({"body": json.loads(body), "signed": bool(self.headers.get(
                        "X-GridCase-Signature")), "key": self.headers.get("Idempotency-Key")})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"errcode": 0}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of_kind(self, kind: str, case_id: int) -> list[dict]:
        with self.lock:
            return [h for h in self.received
                    if h["body"]["gridcase"]["kind"] == kind and h["body"]["gridcase"]["case"] == case_id]


# --- the stack ------------------------------------------------------------------------------------------------------

class Stack:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="gridcase-smoke-"))
        self.db_name = f"gridcase_smoke_{secrets.token_hex(4)}"
        self.web_port, self.nginx_port = free_port(), free_port()
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.hooks = Hooks()
        keys = dict(line.split("=", 1) for line in subprocess.run(
            [VENV_BIN / "python", "-m", "gridcase.keys", "generate"], check=True, capture_output=True, text=True,
            cwd=ROOT).stdout.split())
        base = PG_SERVER.rsplit("/", 1)[0]
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "CACHE_"))},
            "GRIDCASE_DEV": "false", "DEBUG": "false",
            "SECRET_KEY": keys["SECRET_KEY"], "FIELD_ENCRYPTION_KEY": keys["FIELD_ENCRYPTION_KEY"],
            "DATABASE_URL": f"{base}/{self.db_name}", "CELERY_BROKER_URL": REDIS_URL, "CACHE_URL": REDIS_URL,
            "GRIDCASE_DATA_DIR": str(self.tmp / "data"), "MEDIA_ROOT": str(self.tmp / "media"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "CSRF_TRUSTED_ORIGINS": "https://127.0.0.1",
            "BEHIND_TLS_PROXY": "true", "SECURE_SSL_REDIRECT": "true", "TRUSTED_PROXY_COUNT": "1",
            "FORWARDED_ALLOW_IPS": "127.0.0.1", "MEDIA_ACCEL_REDIRECT": "true",
            "NOTIFICATION_CHANNELS": "webhook",
            "NOTIFICATION_WEBHOOK_URL": f"http://127.0.0.1:{self.hooks.port}/robot",
            "NOTIFICATION_WEBHOOK_SECRET": secrets.token_urlsafe(24),
            "PUBLIC_URL": "https://127.0.0.1", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "GUNICORN_BIND": f"127.0.0.1:{self.web_port}", "GUNICORN_WORKERS": "2",
            "GUNICORN_ACCESSLOG": str(self.tmp / "gunicorn-access.log"),
            "BEAT_SLA_SWEEP_SECONDS": "5", "BEAT_OUTBOX_SECONDS": "5",
        }
        if os.geteuid() == 0:
            self.env["C_FORCE_ROOT"] = "1"  # CI runs as root; a real deployment runs the workers as a user

    # processes
    def manage(self, *args, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([VENV_BIN / "python", "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True, **kw)

    def start(self, name: str, argv: list) -> None:
        log = open(self.tmp / f"{name}.log", "w")
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.processes.append((name, proc))
        say(f"started {name} (pid {proc.pid})")

    def stop(self) -> None:
        for _name, proc in reversed(self.processes):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, proc in reversed(self.processes):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            say(f"stopped {name}")
        self.hooks.server.shutdown()

    def process(self, name: str) -> subprocess.Popen:
        return next(proc for n, proc in self.processes if n == name)

    def queue_length(self, queue: str) -> int:
        import redis

        return redis.Redis.from_url(REDIS_URL).llen(queue)

    def tail(self) -> None:
        for path in sorted(self.tmp.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-25:]
            print(f"--- {path.name} (last lines)\n" + "\n".join(lines), file=sys.stderr)

    # services
    def create_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_SERVER.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.db_name)))
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()

    def drop_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_SERVER.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.db_name)))
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()

    def nginx_config(self) -> Path:
        """deploy/nginx.conf as shipped, with only what differs on loopback rewritten (each must be found)."""
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        for old, new in [("server web:8000;", f"server 127.0.0.1:{self.web_port};"),
                         ("listen 80;", f"listen 127.0.0.1:{self.nginx_port};"),
                         ("/srv/media/", f"{self.tmp / 'media'}/"),
                         ("/var/cache/nginx/gridcase_static", str(self.tmp / "nginx-cache"))]:
            if old not in site:
                raise Failed(f"deploy/nginx.conf no longer contains {old!r}: update scripts/smoke.py")
            site = site.replace(old, new)
        (self.tmp / "site.conf").write_text(site)
        temp = self.tmp / "nginx-temp"
        main = f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes 1;
pid {self.tmp / 'nginx.pid'};
error_log {self.tmp / 'nginx-error.log'} warn;
daemon off;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.tmp / 'nginx-access.log'};
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    include {self.tmp / 'site.conf'};
}}
"""
        temp.mkdir()
        (self.tmp / "nginx-main.conf").write_text(main)
        return self.tmp / "nginx-main.conf"

    def up(self) -> None:
        self.create_database()
        say(f"database {self.db_name}, Redis {REDIS_URL}, web :{self.web_port}, nginx :{self.nginx_port}")
        checked = self.manage("check", "--deploy", "--fail-level", "WARNING")
        check("System check identified no issues" in checked.stdout + checked.stderr,
              "manage.py check --deploy is clean with the production settings")
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        started = time.monotonic()
        self.manage("seed", "demo")
        say(f"demo city seeded in {time.monotonic() - started:.1f} s")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        config = self.nginx_config()
        subprocess.run([nginx, "-t", "-c", str(config), "-p", str(self.tmp)], check=True, capture_output=True)
        self.start("gunicorn", [VENV_BIN / "gunicorn", "gridcase.wsgi:application", "--config",
                                "deploy/gunicorn.conf.py"])
        for group, queues in WORKERS.items():
            self.start(f"worker-{group}", [VENV_BIN / "celery", "-A", "gridcase", "worker", "-Q", queues, "-n",
                                           f"{group}@smoke", "--concurrency=1", "--loglevel=INFO"])
        self.start("beat", [VENV_BIN / "celery", "-A", "gridcase", "beat", "--loglevel=INFO", "--schedule",
                            str(self.tmp / "beat-schedule")])
        self.start("nginx", [nginx, "-c", str(config), "-p", str(self.tmp)])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            for name, proc in self.processes:
                if proc.poll() is not None:
                    raise Failed(f"{name} exited with {proc.returncode}")
            time.sleep(0.5)
        raise Failed("/readyz did not answer 200 through nginx within 60 s")

    # HTTP through nginx, from the client address
    def request(self, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None,
                https: bool = True):
        conn = http.client.HTTPConnection("127.0.0.1", self.nginx_port, timeout=30,
                                          source_address=(CLIENT_ADDRESS, 0))
        sent = {"Host": "127.0.0.1", "Accept-Language": "zh-Hans", **(headers or {})}
        if https:
            sent["X-Forwarded-Proto"] = "https"  # set by the TLS terminator in front of nginx
        if token:
            sent["Authorization"] = f"Token {token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, raw

    def api(self, method: str, path: str, body=None, token=None, expect: int = 200) -> dict:
        status, headers, raw = self.request(method, f"/api/v1/{path}", body, token)
        if headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        if status != expect:
            raise Failed(f"{method} {path}: {status} (expected {expect}): {raw[:400]!r}")
        return json.loads(raw) if raw else {}


def facts(stack: Stack) -> dict:
    """Ids the run needs from the demo city, and the short SLA policy it adds (red after 72 s, calendar time)."""
    code = """
import json
from decimal import Decimal
from django.contrib.auth import get_user_model
from gridcase.cases.models import Category, SlaPolicy
from gridcase.grids.models import Membership
worker = get_user_model().objects.get(username="micro0101")
grid = Membership.objects.filter(user=worker).values_list("grid_id", flat=True).first()
category = Category.objects.filter(is_active=True, children__isnull=True).order_by("id").first()
SlaPolicy.objects.filter(category=category, stage="accept").delete()
SlaPolicy.objects.create(category=category, stage="accept", yellow_hours=Decimal("0.01"), red_hours=Decimal("0.02"),
                         working_hours=False)
print(json.dumps({"grid": grid, "category": category.id}))
"""
    return json.loads(stack.manage("shell", "-c", code).stdout.strip().splitlines()[-1])


def run(stack: Stack) -> None:
    stack.up()
    # Headers and assets --------------------------------------------------------------------------------------
    status, headers, _ = stack.request("GET", "/api/v1/me/", https=False)
    check(status == 301 and headers.get("location", "").startswith("https://"), "plain HTTP is redirected to HTTPS")
    status, headers, raw = stack.request("GET", "/")
    check(status == 200 and (b'id="app"' in raw or b"id=app" in raw), "the app's index answers through nginx")
    check("no-cache" in headers.get("cache-control", "") or "no-store" in headers.get("cache-control", "")
          or "max-age=0" in headers.get("cache-control", ""), f"the index is never cached ({headers.get('cache-control')})")
    for name, expected in [("strict-transport-security", "max-age=31536000"), ("x-content-type-options", "nosniff"),
                           ("x-frame-options", "DENY"), ("referrer-policy", "same-origin"),
                           ("content-security-policy", "default-src")]:
        check(expected in headers.get(name, ""), f"security header {name}: {headers.get(name)}")
    import re

    asset = re.search(rb'/static/assets/[^"\']+\.js', raw)
    check(asset is not None, "the index names a hashed script")
    status, headers, body = stack.request("GET", asset.group().decode(), headers={"Accept-Encoding": "br, gzip"})
    check(status == 200 and headers.get("content-encoding") == "br",
          f"hashed assets are sent precompressed (brotli, {len(body)} bytes)")
    check("immutable" in headers.get("cache-control", "") and "31536000" in headers.get("cache-control", ""),
          f"hashed assets are cached a year, immutable ({headers.get('cache-control')})")
    status, headers, _ = stack.request("GET", asset.group().decode(), headers={"Accept-Encoding": "br, gzip"})
    check(headers.get("x-cache-status") == "HIT", "nginx answers the second request for an asset from its cache")
    # Sign in and one case through its life -------------------------------------------------------------------
    ids = facts(stack)
    tokens = {u: stack.api("POST", "auth/login/", {"username": u, "password": "gridcase123"})["token"]
              for u in ("micro0101", "secretary", "grid01")}
    status, headers, raw = stack.request("GET", "/api/v1/categories/", token=tokens["secretary"],
                                         headers={"Accept-Encoding": "gzip"})
    check(status == 200 and headers.get("content-encoding") == "gzip", "API answers are gzipped by nginx")
    status, _, raw = stack.request("POST", "/api/v1/imports/", body=b"x" * (26 * 1024 * 1024),
                                   token=tokens["secretary"], headers={"Content-Type": "application/octet-stream"})
    check(status == 413, "an upload over nginx's 25 MB limit is refused before it reaches gunicorn (413)")

    case = stack.api("POST", "cases/", {"category": ids["category"], "grid": ids["grid"], "title": "楼道堆物",
                                        "description": "三单元一楼楼道堆满纸箱，影响通行。"},
                     token=tokens["micro0101"], expect=201)
    check(case["status"] == "reported" and case["sla_state"] == "ok", f"case {case['number']} reported")

    def act(user, action, **data):
        nonlocal case
        case = stack.api("POST", f"cases/{case['id']}/{action}/", {"version": case["version"], **data},
                         token=tokens[user])
        return case["status"]

    check(act("secretary", "accept") == "accepted", "the secretary accepts it")
    worker_id = stack.api("GET", "me/", token=tokens["micro0101"])["id"]
    check(act("secretary", "assign", assignee=worker_id) == "assigned", "and assigns it to the micro-grid worker")
    check(act("micro0101", "start") == "in_progress", "the worker starts")
    check(act("micro0101", "resolve", note="已清理") == "resolved", "and resolves it")
    verifier = next(u for u in ("grid01", "secretary") if "verify" in stack.api(
        "GET", f"cases/{case['id']}/", token=tokens[u])["allowed_actions"])
    check(act(verifier, "verify") == "verified", f"{verifier} verifies")
    check(act("secretary", "close") == "closed", "the secretary closes it")
    events = stack.api("GET", f"cases/{case['id']}/events/", token=tokens["secretary"])
    events = events.get("results", events)
    actions = [e["action"] for e in events]
    check(sorted(actions) == sorted(["create", "accept", "assign", "start", "resolve", "verify", "close"]),
          f"its events are recorded ({', '.join(actions)})")
    # The reader's address ----------------------------------------------------------------------------------
    resident = stack.api("GET", "residents/", token=tokens["micro0101"])["results"][0]
    stack.api("GET", f"residents/{resident['id']}/", token=tokens["micro0101"])
    log = stack.api("GET", "audit-log/?action=reveal", token=tokens["secretary"])["results"]
    check(log and log[0]["ip"] == CLIENT_ADDRESS,
          f"the audit log names the reader's address {CLIENT_ADDRESS}, not nginx's ({log[0]['ip'] if log else None})")
    # One SLA breach: beat → sweep → outbox → webhook, once, while the bulk queues are held busy --------------
    # The bulk worker (rollups, imports, exports) is frozen with a job waiting, as if a 100,000-row export held
    # it for the whole breach window: the breach warning must still go out on time through its own worker.
    bulk = stack.process("worker-bulk")
    os.killpg(bulk.pid, signal.SIGSTOP)
    stack.manage("shell", "-c", "from gridcase.celery import app; app.send_task('gridcase.stats.tasks.refresh_rollups')")
    check(stack.queue_length("rollups") == 1, "the bulk worker is held busy with a rollup job waiting")
    late = stack.api("POST", "cases/", {"category": ids["category"], "grid": ids["grid"], "title": "路灯不亮",
                                        "description": "小区东门路灯坏了两天。"}, token=tokens["micro0101"], expect=201)
    due_at = time.monotonic() + SLA_RED_SECONDS
    say(f"case {late['number']} left unaccepted; its breach is due in {SLA_RED_SECONDS} s")
    while time.monotonic() < due_at + 60 and not stack.hooks.of_kind("sla_red", late["id"]):
        time.sleep(1)
    arrived = stack.hooks.of_kind("sla_red", late["id"])
    late_by = time.monotonic() - due_at
    check(arrived and late_by < 20, f"the breach notice reached the webhook {late_by:.0f} s after the deadline "
                                    f"(sweep and outbox every 5 s), the bulk queue still held")
    os.killpg(bulk.pid, signal.SIGCONT)
    waited = time.monotonic() + 60
    while stack.queue_length("rollups") and time.monotonic() < waited:
        time.sleep(1)
    check(stack.queue_length("rollups") == 0, "released, the bulk worker takes the waiting rollup job")
    time.sleep(12)  # two more sweeps and outbox runs: nothing may be sent again
    arrived = stack.hooks.of_kind("sla_red", late["id"])
    recipients = [h["body"]["gridcase"]["recipient"] for h in arrived]
    check(len(recipients) == len(set(recipients)) and all(h["signed"] for h in arrived),
          f"each recipient got the breach notice exactly once, signed ({', '.join(recipients)})")
    state = stack.api("GET", f"cases/{late['id']}/", token=tokens["secretary"])["sla_state"]
    check(state == "red", "the case shows red")


def main() -> int:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        print("The frontend is not built: run `make frontend` first.", file=sys.stderr)
        return 1
    stack = Stack()
    started = time.monotonic()
    try:
        run(stack)
    except (Failed, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"SMOKE FAILED: {exc}\n{detail[-3000:]}", file=sys.stderr)
        stack.tail()
        return 1
    finally:
        stack.stop()
        stack.drop_database()
        shutil.rmtree(stack.tmp, ignore_errors=True)
    say(f"smoke passed in {time.monotonic() - started:.0f} s; everything it started is stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
