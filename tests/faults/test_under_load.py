"""The long fault run (`make faults`): gunicorn, two Celery worker processes, our own Redis and a signed-webhook
receiver, under a steady load of reports and list reads, while faults are injected one after another:

1. `kill -9` of a Celery worker in the middle of a webhook send (the receiver stalls it), then a new worker;
2. Redis killed for a few seconds (its queue is lost: no persistence), then started again, empty;
3. every database connection of the app (web and workers) ended with pg_terminate_backend, several times
   (what a PostgreSQL restart does to the app; the shared server itself is not restarted).

Clients behave as the phone app does: a report carries a client key and is resent with the same key after a
503 or a lost answer. Then the run asserts: no 500 and no answer other than 200/201/503, every 503 in the
JSON shape with code `unavailable`, one case per client key (one `create` event each), every notification
sent, and the receiver (deduplicating on `Idempotency-Key`) handled each exactly once. The figures are printed
and written to $GRIDCASE_DATA_DIR/faults-report.json.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from gridcase.cases.models import Case, CaseEvent
from gridcase.notifications.models import Delivery, Notification
from gridcase.notifications.tasks import deliver_pending

from .support import (
    ROOT,
    SECRET,
    WorkerProcess,
    connected_to,
    database_url,
    free_port,
    http,
    terminate_app_connections,
    token_for,
    use_broker,
    wait_for,
)

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]
LEASE = 3
CLIENTS = 4


class Gunicorn:
    def __init__(self, broker_url, receiver):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(os.environ.get("GRIDCASE_DATA_DIR", "/tmp")) / f"faults-gunicorn-{self.port}.log"
        # As in deploy/compose.yaml, the shared cache lives on the same Redis as the broker: it goes down too.
        env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker_url,
               "CACHE_URL": broker_url.rsplit("/", 1)[0] + "/1",
               "NOTIFICATION_CHANNELS": "webhook", "NOTIFICATION_WEBHOOK_URL": receiver.url,
               "NOTIFICATION_WEBHOOK_SECRET": SECRET, "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "2",
               "GUNICORN_ACCESSLOG": "/dev/null", "DB_CONN_MAX_AGE": "60"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "gridcase.wsgi:application", "--config", "deploy/gunicorn.conf.py",
             "--bind", f"127.0.0.1:{self.port}"], cwd=ROOT, env=env, stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT)
        wait_for(lambda: self._up(), 60, 0.3, what="gunicorn")

    def _up(self):
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        try:
            return http("GET", self.url + "/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def stop(self):
        self.process.terminate()
        self.process.wait(20)


class Load:
    """Client threads reporting cases (resent with the same key until answered 200/201) and reading lists."""

    def __init__(self, url, tokens, report):
        self.url, self.tokens, self.report = url, tokens, report
        self.outcomes = Counter()       # HTTP status (or "connection error") -> count
        self.bad = []                   # anything that is not 200/201/503-unavailable
        self.keys = {}                  # client key -> (token index, final status)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(CLIENTS)]

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(120)

    def record(self, status, body, text):
        with self.lock:
            self.outcomes[status] += 1
            if status == 503 and (body or {}).get("code") == "unavailable" and set(body) == {"code", "message",
                                                                                              "fields"}:
                return
            if status not in (200, 201):
                self.bad.append((status, text[:300]))

    def call(self, method, path, body=None, token=None):
        try:
            status, parsed, text = http(method, self.url + path, body, token=token, timeout=60)
        except OSError as exc:  # no answer at all (counted: a client would resend)
            with self.lock:
                self.outcomes["connection error"] += 1
            return None, str(exc)
        self.record(status, parsed, text)
        return status, parsed

    def run(self, i):
        token = self.tokens[i % len(self.tokens)]
        n = 0
        while not self.stop.is_set():
            n += 1
            key = f"load-{i}-{n}"
            status = None
            for _ in range(100):  # the phone's outbox: resend with the same key
                status, _body = self.call("POST", "/api/v1/cases/", self.report(key), token)
                if status in (200, 201):
                    break
                time.sleep(0.2)
            with self.lock:
                self.keys[key] = (i % len(self.tokens), status)
            if n % 3 == 0:
                self.call("GET", "/api/v1/cases/?status=reported", token=token)
            time.sleep(0.05)


def sweep_until_all_sent(app, timeout=90):
    deadline = time.monotonic() + timeout
    while Delivery.objects.exclude(state="sent").exists():
        assert time.monotonic() < deadline, Counter(Delivery.objects.values_list("state", flat=True))
        deliver_pending.delay()  # beat's `deliver-notifications`, every second instead of every minute
        time.sleep(1)


def test_faults_under_load_lose_nothing_and_duplicate_nothing(city, taxonomy, category, redis, receiver):
    env = {"NOTIFICATION_CHANNELS": "webhook", "NOTIFICATION_WEBHOOK_URL": receiver.url,
           "NOTIFICATION_WEBHOOK_SECRET": SECRET, "NOTIFICATION_LEASE_SECONDS": LEASE,
           "NOTIFICATION_WEBHOOK_TIMEOUT": 60}
    tokens = [token_for(city.worker), token_for(city.grid_worker)]
    for user in (city.worker, city.grid_worker):  # both may report in the micro grid
        assert user.memberships.exists()

    def report(key):
        return {"category": category.pk, "grid": city.micro.pk, "title": f"路面破损 {key}",
                "description": "压力测试", "client_key": key}

    faults = Counter()
    workers = [WorkerProcess(redis.url, **env).start(), WorkerProcess(redis.url, **env).start()]
    web = Gunicorn(redis.url, receiver)
    load = Load(web.url, tokens, report)
    started = time.monotonic()
    try:
        with use_broker(redis.url) as app:
            load.start()
            time.sleep(3)

            # 1. A worker killed mid-send, twice.
            for _ in range(2):
                receiver.stall(1)
                wait_for(lambda: receiver.stalled == 1, 30, what="a delivery to stall")
                # The worker whose request is hanging: the one holding a connection to the receiver.
                port = receiver.server.server_port
                pid = connected_to([w.process.pid for w in workers], port)
                assert pid is not None, "no worker is connected to the receiver"
                victim = next(w for w in workers if w.process.pid == pid)
                victim.kill9()
                faults["celery worker kill -9 mid-send"] += 1
                receiver.release()
                workers.remove(victim)
                workers.append(WorkerProcess(redis.url, **env).start())
                time.sleep(2)

            # 2. Redis down for 4 s, back empty.
            redis.kill()
            faults["redis killed (queue lost)"] += 1
            time.sleep(4)
            redis.start()
            time.sleep(3)

            # 3. Every app connection to PostgreSQL ended, five times, under load.
            for _ in range(5):
                ended = terminate_app_connections()
                faults["postgres: all app connections terminated"] += 1
                faults["postgres backends ended"] += ended
                time.sleep(1.5)

            time.sleep(2)
            load.finish()
            sweep_until_all_sent(app)
    finally:
        load.finish()
        receiver.release()
        web.stop()
        for w in workers:
            w.stop()

    # Requests: each answered 200/201, or 503 unavailable (JSON); nothing else.
    assert not load.bad, load.bad[:5]
    assert load.outcomes[500] == 0
    assert all(status in (200, 201) for _, status in load.keys.values()), "a report was never accepted"
    # One case per client key, one `create` event per case.
    per_key = dict(Case.objects.filter(client_key__startswith="load-").values_list("client_key")
                   .annotate(n=Count("id")).values_list("client_key", "n"))
    assert set(per_key) == set(load.keys) and set(per_key.values()) == {1}
    creates = Counter(CaseEvent.objects.filter(action="create").values_list("case_id", flat=True))
    assert set(creates.values()) == {1} and len(creates) == Case.objects.count()
    # Notifications: all sent; the receiver handled each exactly once.
    expected = {f"gridcase-{pk}-webhook" for pk in Notification.objects.values_list("pk", flat=True)}
    assert not Delivery.objects.exclude(state="sent").exists()
    assert set(receiver.processed) == expected
    assert receiver.bad_signatures == 0
    assert receiver.repeats >= faults["celery worker kill -9 mid-send"]  # each kill did cut a send off
    figures = {
        "seconds": round(time.monotonic() - started, 1),
        "faults": dict(faults),
        "requests": sum(load.outcomes.values()),
        "outcomes": {str(k): v for k, v in sorted(load.outcomes.items(), key=str)},
        "reports (client keys)": len(load.keys),
        "cases": Case.objects.count(),
        "duplicate cases": sum(n - 1 for n in per_key.values()),
        "queueing failures logged by the web (left to the sweep)": web.log.read_text().count("Could not queue"),
        "notifications": len(expected),
        "sent (deliveries in state sent)": Delivery.objects.filter(state="sent").count(),
        "webhook requests received": sum(receiver.raw.values()),
        "repeats of a cut-off send (same key, dropped by the receiver)": receiver.repeats,
        "notifications received more than once": sum(1 for n in receiver.raw.values() if n > 1),
        "unexpected keys": len(set(receiver.processed) - expected),
        "lost": len(expected - set(receiver.processed)),
    }
    text = json.dumps(figures, ensure_ascii=False, indent=2)
    print("\nFault run figures:\n" + text)
    out = Path(os.environ.get("GRIDCASE_DATA_DIR", "/tmp")) / "faults-report.json"
    out.write_text(text)
