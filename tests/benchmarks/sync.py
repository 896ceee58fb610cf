"""Benchmark: a worker's phone comes back online with 1,000 queued items and syncs them through the real API.

The phone's offline queue (frontend/src/offline/queue.ts, sender.ts) sends its items three at a time, started
oldest first, each with the client uuid it was made with: a visit `POST /api/v1/visits/` (`client_uuid`), a report
`POST /api/v1/cases/` (`client_key`), a campaign answer `POST /api/v1/campaign-tasks/{id}/answer/`
(`client_uuid`). This script does the same over three keep-alive connections to gunicorn (deploy/gunicorn.conf.py,
production settings, token auth; `--in-process` uses DRF's APIClient instead), against DATABASE_URL (the city
database), as the first micro-grid worker:

- setup (not timed): campaigns over the households of the worker's micro-grid, launched through the service,
  until there are enough open tasks for the campaign answers;
- the sync (timed): `--items` items (default 1,000: 60 % visits, 25 % reports, 15 % campaign answers, mixed in
  the order a day's work makes them);
- the resend (timed): the same batch again, as a phone does when the answers were lost on the way back;
- the check: every item is stored exactly once (one visit per client_uuid, one case per client_key, one answer
  per task with its client_uuid, one `create` event per case, one points entry per answered task), and
  every resend answered 200 with the stored object.

Prints the seconds for the sync (goal < 30 s) and the resend, the median per kind, and the exactly-once check.
Nothing here asserts; the cases, visits and answers it writes stay in the database (names carry the run id).

    DATABASE_URL=postgres://…/gridcase_city python -m tests.benchmarks.sync [--items 1000] [--port 8040]
        [--workers 2] [--in-process]
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from gridcase.campaigns import launching  # noqa: E402
from gridcase.campaigns.models import Campaign, CampaignStatus, CampaignTask, TaskStatus  # noqa: E402
from gridcase.cases.models import Case, CaseEvent, Category  # noqa: E402
from gridcase.grids.choices import Role  # noqa: E402
from gridcase.grids.models import Household, Membership, Resident  # noqa: E402
from gridcase.points.models import PointEntry  # noqa: E402
from gridcase.visits.models import Visit  # noqa: E402

from .http import PROXY_HEADERS, first_user, login, start_server  # noqa: E402

CHECKLIST = [
    {"key": "charging", "text": "楼道内是否有电动车充电", "type": "yes_no", "required": True},
    {"key": "exit", "text": "安全出口", "type": "choice", "choices": ["畅通", "堵塞"], "required": True},
    {"key": "note", "text": "备注", "type": "text", "required": False},
]
SHARE = {"visit": 0.60, "case": 0.25}  # the rest: campaign answers


# --- setup ---------------------------------------------------------------------------------------------------

def open_tasks(worker, micro, need: int, run_id: str) -> list[int]:
    """Pending campaign tasks of the worker, launching campaigns over their micro-grid's households until
    there are `need` (at most 20 campaigns)."""
    manager = (Membership.objects.filter(role__in=[Role.SECRETARY, Role.STREET_DISPATCHER],
                                         grid__tree_id=micro.tree_id, grid__lft__lt=micro.lft,
                                         grid__rght__gt=micro.rght).select_related("user").order_by("-grid__lft")
               .first())
    if manager is None:
        sys.exit("no secretary or dispatcher above the worker's micro-grid: campaign answers cannot be set up")
    pending = CampaignTask.objects.filter(worker=worker, status=TaskStatus.PENDING,
                                          campaign__status=CampaignStatus.RUNNING)
    today = timezone.localdate()
    for n in range(20):
        if pending.count() >= need or not Household.objects.filter(grid=micro).exists():
            break
        campaign = Campaign.objects.create(name=f"sync bench {run_id} #{n + 1}", grid=micro, target="household",
                                           checklist=CHECKLIST, starts_on=today, ends_on=today + timedelta(days=7),
                                           owner=manager.user, created_by=manager.user)
        launching.request_launch(manager.user, campaign)
        launching.run(campaign.pk)
    return list(pending.order_by("id").values_list("id", flat=True)[:need])


def make_batch(items: int, worker, micro, run_id: str) -> list[dict]:
    """The phone's queue: visits to the micro-grid's residents, reports, campaign answers, oldest first."""
    residents = list(Resident.objects.filter(grid=micro, is_active=True).order_by("id").values_list("id", flat=True))
    category = Category.objects.filter(code="env_drain").first() or Category.objects.filter(
        is_active=True, sensitive=False, parent__isnull=False).order_by("id").first()
    n_case = round(items * SHARE["case"])
    tasks = open_tasks(worker, micro, items - round(items * SHARE["visit"]) - n_case, run_id)
    n_visit = items - n_case - len(tasks)
    if not residents:
        sys.exit(f"no resident in {micro.code}: visits cannot be queued")
    now = timezone.now()
    # A phone offline for two days: the items spread over that time, in the order they were made.
    order = []
    for kind, n in (("visit", n_visit), ("case", n_case), ("campaign", len(tasks))):
        order += [((k + 0.5) / n, kind) for k in range(n)]
    kinds = [kind for _, kind in sorted(order)]
    batch, counters = [], {"visit": 0, "case": 0, "campaign": 0}
    for i, kind in enumerate(kinds):
        at = now - timedelta(hours=48) + timedelta(seconds=i * 48 * 3600 // max(1, len(kinds)))
        k = counters[kind]
        counters[kind] += 1
        key = str(uuid.uuid4())
        if kind == "visit":
            body = {"client_uuid": key, "resident": residents[k % len(residents)],
                    "kind": "home" if k % 3 else "phone", "visited_at": at.isoformat(),
                    "wellbeing": "good" if k % 10 else "attention", "findings": f"sync {run_id} {k}",
                    "needs": [] if k % 10 else ["meals"]}
            batch.append({"kind": kind, "key": key, "path": "/api/v1/visits/", "body": body})
        elif kind == "case":
            body = {"client_key": key, "category": category.pk, "grid": micro.pk, "title": f"sync {run_id} {k}",
                    "description": "tests.benchmarks.sync", "source": "patrol"}
            batch.append({"kind": kind, "key": key, "path": "/api/v1/cases/", "body": body})
        else:
            body = {"client_uuid": key, "answers": {"charging": False, "exit": "畅通", "note": f"sync {run_id}"},
                    "answered_at": at.isoformat()}
            batch.append({"kind": kind, "key": key, "task": tasks[k],
                          "path": f"/api/v1/campaign-tasks/{tasks[k]}/answer/", "body": body})
    return batch


# --- senders -----------------------------------------------------------------------------------------------------

class HttpSender:
    """One keep-alive connection, as the phone's browser holds one to the server."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {**PROXY_HEADERS, "Accept": "application/json", "Content-Type": "application/json",
                        "Authorization": f"Token {token}"}

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        self.conn.request("POST", path, body=json.dumps(body).encode(), headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else {})


class InProcessSender:
    def __init__(self, user):
        from rest_framework.test import APIClient  # noqa: PLC0415

        self.client = APIClient()
        self.client.force_authenticate(user)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        r = self.client.post(path, body, format="json")
        return r.status_code, (r.json() if r.content else {})


def send_all(make_sender, batch, lanes: int) -> tuple[float, dict, list]:
    """The queue's loop (syncQueue): `lanes` items in flight at once, each lane its own keep-alive connection,
    items started oldest first; returns seconds, times per kind, and (item, status, answer) in queue order."""
    local = threading.local()

    def one(item):
        if not hasattr(local, "sender"):
            local.sender = make_sender()
        t = time.perf_counter()
        status, data = local.sender.post(item["path"], item["body"])
        return item, status, data, (time.perf_counter() - t) * 1000

    per_kind: dict[str, list[float]] = {}
    answers = []
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        for item, status, data, ms in pool.map(one, batch):
            per_kind.setdefault(item["kind"], []).append(ms)
            answers.append((item, status, data))
    return time.perf_counter() - started, per_kind, answers


# --- the check -----------------------------------------------------------------------------------------------------

def check(batch, first, again, worker) -> list[tuple[str, bool, str]]:
    keys = {kind: [i["key"] for i in batch if i["kind"] == kind] for kind in ("visit", "case", "campaign")}
    rows = []

    def line(what, ok, detail):
        rows.append((what, ok, detail))

    bad_first = [(i["kind"], s, d) for i, s, d in first if s != 201]
    line("first send: every item stored (201)", not bad_first,
         f"{len(first) - len(bad_first)}/{len(first)}" + (f"; first refusal {bad_first[0]}" if bad_first else ""))
    bad_again = [(i["kind"], s, d) for i, s, d in again if s != 200]
    line("resend: every item answered 200 (already stored)", not bad_again,
         f"{len(again) - len(bad_again)}/{len(again)}" + (f"; first other {bad_again[0]}" if bad_again else ""))
    same = sum(1 for (_, _, a), (_, _, b) in zip(first, again, strict=True) if a.get("id") == b.get("id"))
    line("resend answered the object the first send stored", same == len(first), f"{same}/{len(first)}")

    visits = Visit.objects.filter(client_uuid__in=keys["visit"])
    n = visits.count()
    line("visits: one row per client_uuid", n == len(keys["visit"]), f"{n} rows for {len(keys['visit'])} items")
    cases = Case.objects.filter(reporter=worker, client_key__in=keys["case"])
    n = cases.count()
    line("reports: one case per client_key", n == len(keys["case"]), f"{n} cases for {len(keys['case'])} items")
    events = CaseEvent.objects.filter(case__in=cases, action="create").values("case_id").annotate(n=Count("id"))
    twice = sum(1 for e in events if e["n"] != 1)
    line("reports: one create event per case", twice == 0 and len(events) == len(keys["case"]),
         f"{len(events)} cases with events, {twice} with more than one")
    tasks = CampaignTask.objects.filter(client_uuid__in=keys["campaign"])
    n = tasks.count()
    answered = tasks.exclude(status=TaskStatus.PENDING).count()
    line("campaign answers: one answered task per client_uuid", n == answered == len(keys["campaign"]),
         f"{answered} answered tasks for {len(keys['campaign'])} items")
    ids = list(tasks.values_list("id", flat=True))
    entries = (PointEntry.objects.filter(source_type="campaigntask", source_id__in=ids).values("source_id")
               .annotate(n=Count("id")))
    twice = sum(1 for e in entries if e["n"] != 1)
    line("campaign answers: points awarded at most once per task", twice == 0,
         f"{len(entries)} tasks with points, {twice} more than once")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8040)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--in-process", action="store_true", help="DRF's APIClient instead of gunicorn over HTTP")
    parser.add_argument("--lanes", type=int, default=3,
                        help="requests in flight at once (the worker app's SYNC_LANES, frontend/src/offline/queue.ts)")
    args = parser.parse_args()
    run_id = uuid.uuid4().hex[:8]
    worker, micro = first_user("micro_grid_worker", "micro_grid")
    print(f"database: {settings.DATABASES['default']['NAME']}, {Case.objects.count():,} cases, "
          f"{Visit.objects.count():,} visits; worker {worker.username} ({micro.code}); run {run_id}")
    started = time.perf_counter()
    batch = make_batch(args.items, worker, micro, run_id)
    counts = {k: sum(1 for i in batch if i["kind"] == k) for k in ("visit", "case", "campaign")}
    print(f"queued: {len(batch)} items ({counts['visit']} visits, {counts['case']} reports, "
          f"{counts['campaign']} campaign answers); setup {time.perf_counter() - started:.1f} s")

    proc = None
    try:
        if args.in_process:
            lanes = 1  # (one test client: the database connection is this thread's)
            make_sender, how = (lambda: InProcessSender(worker)), "in process (APIClient)"
        else:
            lanes = args.lanes
            proc = start_server(args.port, args.workers, Path(tempfile.mkdtemp(prefix="gridcase-sync-")))
            token = login(f"http://127.0.0.1:{args.port}", worker.username)
            make_sender = lambda: HttpSender(args.port, token)  # noqa: E731
            how = f"HTTP, gunicorn {args.workers} workers, {lanes} keep-alive connection(s) in flight"
        seconds, per_kind, first = send_all(make_sender, batch, lanes)
        again_seconds, again_kind, again = send_all(make_sender, batch, lanes)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)

    print(f"\nsync ({how}): {len(batch)} items in {seconds:.1f} s ({len(batch) / seconds:.0f} items/s; goal < 30 s)")
    for kind, times in per_kind.items():
        print(f"  {kind:<9} {len(times):>5} items  median {statistics.median(times):6.1f} ms  "
              f"max {max(times):7.1f} ms")
    print(f"resend of the same batch: {again_seconds:.1f} s")
    for kind, times in again_kind.items():
        print(f"  {kind:<9} {len(times):>5} items  median {statistics.median(times):6.1f} ms")
    print("\nexactly once:")
    rows = check(batch, first, again, worker)
    for what, ok, detail in rows:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: {detail}")
    print("all items landed exactly once" if all(ok for _, ok, _ in rows) else "! some items did not land exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
