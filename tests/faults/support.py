"""Real things to break: a private redis-server, a Celery worker process, a webhook receiver, database
connections. Nothing here stands in for the real service: the faults are injected into the real ones.

- `RedisServer`: our own redis-server on a free port (never the shared one), killed and restarted at will.
- `WorkerProcess`: `celery worker` in a child process on that broker and the test database; `kill9()`.
- `Receiver`: an HTTP webhook receiver on 127.0.0.1 that checks signatures, counts deliveries per
  `Idempotency-Key` (a repeat is recorded, not processed again) and can stall mid-request.
- `use_broker(url)`: point this process's Celery producer at a broker.
- `terminate_app_connections()`: what a PostgreSQL restart does to the app, without restarting the
  server the other developers share: end every backend of the test database except ours.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.db import connection

from gridcase.notifications import signing

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-test-webhook-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=20.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A redis-server of our own (no persistence: a kill loses the queue, as a crash without AOF would)."""

    def __init__(self):
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="gridcase-redis-")
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, 10, what=f"redis-server on {self.port}")
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def close(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class WorkerProcess:
    """`celery -A gridcase worker` (solo pool) in a child process, on the test database and a given broker."""

    count = 0

    def __init__(self, broker_url: str, **env):
        WorkerProcess.count += 1
        self.name = f"faults{os.getpid()}-{WorkerProcess.count}"
        self.log = Path(tempfile.mkstemp(prefix=f"{self.name}-", suffix=".log")[1])
        self.env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "gridcase.settings", "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker_url, "C_FORCE_ROOT": "1", "PYTHONUNBUFFERED": "1",
            **{k: str(v) for k, v in env.items()},
        }
        self.process = None

    def start(self, wait=True):
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "gridcase", "worker", "--pool=solo", "--concurrency=1",
             "--loglevel=INFO", "--without-mingle", "--without-gossip", "-n", f"{self.name}@%h"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        if wait:
            wait_for(lambda: b" ready." in self.log.read_bytes() or self.process.poll() is not None, 60,
                     what="the Celery worker")
            assert self.process.poll() is None, self.log.read_text()[-3000:]
        return self

    def kill9(self):
        """What a crash or the OOM killer does: no shutdown, no ack, no cleanup."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def tail(self, n=3000) -> str:
        return self.log.read_text(errors="replace")[-n:]


class Receiver:
    """A webhook endpoint. Every request's signature is checked; a key seen before is a repeat (answered
    200, not processed again). `stall(n)` makes the next n requests hang (after reading the body) until
    `release()`, as a gateway that stops answering does."""

    def __init__(self, secret=SECRET):
        self.secret = secret
        self.lock = threading.Lock()
        self.raw = Counter()          # key -> requests received
        self.processed = {}           # key -> first body
        self.bad_signatures = 0
        self.stalled = 0              # requests currently hanging
        self._stall_next = 0
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers.get("Idempotency-Key", "")
                ok = signing.verify(receiver.secret, self.headers.get(signing.HEADER), body)
                with receiver.lock:
                    stall = receiver._stall_next > 0
                    if stall:
                        receiver._stall_next -= 1
                        receiver.stalled += 1
                if stall:
                    receiver._release.wait(120)
                    with receiver.lock:
                        receiver.stalled -= 1
                with receiver.lock:
                    if not ok:
                        receiver.bad_signatures += 1
                    else:
                        receiver.raw[key] += 1
                        receiver.processed.setdefault(key, json.loads(body))
                with contextlib.suppress(OSError):
                    self.send_response(200 if ok else 401)
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stall(self, n=1):
        self._release.clear()
        with self.lock:
            self._stall_next = n

    def release(self):
        with self.lock:
            self._stall_next = 0
        self._release.set()

    @property
    def repeats(self) -> int:
        """Requests that carried a key already received (the receiver dropped them)."""
        return sum(n - 1 for n in self.raw.values())

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def use_broker(url: str):
    """Send this process's tasks to `url` (Celery keeps a producer pool per app: drop it both ways)."""
    from gridcase.celery import app

    def reset():
        app._pool = None
        with contextlib.suppress(AttributeError, KeyError):
            app.__dict__["amqp"]._producer_pool = None

    names = ("broker_url", "broker_read_url", "broker_write_url", "task_always_eager")
    old = {name: app.conf[name] for name in names}
    app.conf.update(broker_url=url, broker_read_url=url, broker_write_url=url, task_always_eager=False)
    reset()
    try:
        yield app
    finally:
        app.conf.update(old)
        reset()


def terminate_app_connections() -> int:
    """End every other backend on the test database (web threads, workers): a PostgreSQL restart as the
    app sees it, on a server others share. Returns how many were ended."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def token_for(user) -> str:
    """An API token for `user`, whichever token model the API authenticates with (header `Token <key>`)."""
    from django.apps import apps

    if apps.is_installed("knox"):
        from knox.models import AuthToken

        return AuthToken.objects.create(user=user)[1]
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=user).key


def http(method: str, url: str, body=None, token: str | None = None, timeout: float = 30):
    """(status, parsed JSON body or None, raw text) — 4xx/5xx are answers, not exceptions."""
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode(errors="replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return status, parsed, text


class ServerThread:
    """The real Django WSGI handler behind a one-thread server, as one gunicorn thread: it keeps its
    database connection between requests (CONN_MAX_AGE) and runs the request signals that check it."""

    def __init__(self):
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        from django.core.wsgi import get_wsgi_application

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.httpd = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        terminate_app_connections()  # the server thread's persistent connection


def connected_to(pids, port: int):
    """The pid among `pids` holding a TCP connection to 127.0.0.1:`port` (Linux /proc), or None."""
    inodes = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(path) as table:
            for line in list(table)[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # ESTABLISHED
                    inodes.add(fields[9])
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        return pid
    return None
