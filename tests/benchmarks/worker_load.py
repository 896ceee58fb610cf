"""Benchmark: the worker app's first screen (today's round) on a cheap phone with one bar of signal.

Prints, for the worker's first screen (/m/round, signed in):
- the JS and CSS it downloads: raw KB, gzip KB (the build's .gz copies) and KB on the wire (brotli when the
  browser asks for it), file by file with --files;
- the time to a usable round in headless Chromium at 360×640 with the network at 1.6 Mbps down, 750 kbps up,
  150 ms round trip and the CPU slowed four times (DevTools protocol throttling): cold (first visit: empty cache,
  no service worker yet) and warm (the app opened again: service worker installed, its cache filled). Median of
  --runs runs each. "Usable round" = the round's rows (or its empty state) are on the screen.

Nothing here asserts: it prints figures. Targets (issue 10): < 150 KB gzipped, < 6 s cold, < 3 s warm.

    make demo                                    # a seeded database (demo micro-grid worker micro0101, gridcase123)
    python -m tests.benchmarks.worker_load       # serves with gunicorn on a free port, then measures
    python -m tests.benchmarks.worker_load --url http://127.0.0.1:8000 --runs 5 --files --json out.json

Needs the built frontend (`make frontend`) and Debian's chromium (no browser download).
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("FRONTEND_DIST", ROOT / "frontend" / "dist"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}
# 1.6 Mbps down, 750 kbps up, 150 ms RTT (the field conditions), in bytes per second for CDP.
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}
CPU_SLOWDOWN = 4
READY = "[data-test=round-row], .gc-page .van-cell, .gc-page .van-empty, .gc-page [role=alert]"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server():
    port = free_port()
    env = dict(os.environ)
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "gridcase.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit("gunicorn did not answer on /healthz")


def sign_in(browser, url, username, password):
    context = browser.new_context(base_url=url, **PHONE)
    page = context.new_page()
    page.goto("/login")
    page.locator("input[autocomplete=username], input[name=username]").first.fill(username)
    page.locator("input[type=password]").first.fill(password)
    page.locator("button[type=submit]").first.click()
    page.wait_for_url("**/m/**", timeout=30000)
    state = context.storage_state()
    context.close()
    return state


def gzip_size(path_in_url, body):
    """The size of the build's .gz copy (what a gzip-only browser gets); gzip -9 of the body if there is none."""
    gz = DIST / (path_in_url.removeprefix("/static/") + ".gz")
    if gz.exists():
        return gz.stat().st_size
    import gzip

    return len(gzip.compress(body, 9))


def first_load(browser, url, state, files, path="/m/round"):
    """JS and CSS of the first screen (`path`, the round unless told), unthrottled, empty cache, no service worker.
    Everything the page has fetched once it is usable and the network is idle counts, also what loads after."""
    context = browser.new_context(base_url=url, storage_state=state, service_workers="block", **PHONE)
    page = context.new_page()
    seen, fonts = [], []
    page.on("requestfinished", lambda req: seen.append(req) if req.resource_type in ("script", "stylesheet")
            else fonts.append(req) if req.resource_type == "font" else None)
    page.goto(path)
    page.locator(READY if path.startswith("/m/") else "form").first.wait_for(timeout=30000)
    page.wait_for_load_state("networkidle")
    rows = []
    for req in seen:
        response = req.response()
        body = response.body()
        path = req.url.removeprefix(url)
        rows.append({"file": path, "raw": len(body), "gzip": gzip_size(path.split("?")[0], body),
                     "wire": req.sizes()["responseBodySize"], "encoding": response.headers.get("content-encoding", "")})
    font_kb = round(sum(req.sizes()["responseBodySize"] for req in fonts) / 1024, 1)
    context.close()
    total = {k: sum(r[k] for r in rows) for k in ("raw", "gzip", "wire")}
    if files:
        for r in sorted(rows, key=lambda r: -r["gzip"]):
            print(f"  {r['raw'] / 1024:8.1f} {r['gzip'] / 1024:8.1f} {r['wire'] / 1024:8.1f} {r['encoding']:>5}  {r['file']}")
    return {"requests": len(rows), **{k: round(v / 1024, 1) for k, v in total.items()}, "gzip_bytes": total["gzip"],
            "fonts_kb": font_kb,
            "echarts": any("dashboard" in r["file"] or "echarts" in r["file"] for r in rows)}


def throttle(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return cdp


def timed_open(page):
    start = time.perf_counter()
    page.goto("/m/round", wait_until="commit", timeout=60000)
    page.locator(READY).first.wait_for(timeout=60000)
    return time.perf_counter() - start


def cold_and_warm(browser, url, state):
    """One phone: the first visit (cold), then the app opened again once its service worker has taken over."""
    context = browser.new_context(base_url=url, storage_state=state, **PHONE)
    page = context.new_page()
    throttle(page)
    cold = timed_open(page)
    # The service worker installs after `load` and keeps the shell and assets as they pass through it.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60000)  # clients.claim()
    page.goto("about:blank")
    page.close()
    page = context.new_page()  # a new tab in the same profile: what opening the app again from WeChat is
    throttle(page)
    warm = timed_open(page)
    controlled = page.evaluate("!!(navigator.serviceWorker && navigator.serviceWorker.controller)")
    context.close()
    return cold, warm, controlled


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running GridCase (default: start gunicorn on a free port)")
    parser.add_argument("--user", default="micro0101", help="a worker with a round (the demo's has 8 today)")
    parser.add_argument("--password", default="gridcase123")
    parser.add_argument("--runs", type=int, default=3, help="throttled cold and warm runs (0: sizes only)")
    parser.add_argument("--files", action="store_true", help="list the first screen's files")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not (DIST / "index.html").exists():
        sys.exit("The frontend is not built: run `make frontend`.")

    from playwright.sync_api import sync_playwright

    server, url = (None, args.url.rstrip("/")) if args.url else start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            state = sign_in(browser, url, args.user, args.password)
            if args.files:
                print("  raw KB  gzip KB  wire KB  enc   file")
            load = first_load(browser, url, state, args.files)
            colds, warms, controlled = [], [], []
            for _ in range(args.runs):
                cold, warm, ctl = cold_and_warm(browser, url, state)
                colds.append(cold)
                warms.append(warm)
                controlled.append(ctl)
            browser.close()
    finally:
        if server:
            server.terminate()
            server.wait(10)

    if not colds:
        print(f"Worker's first screen (/m/round): {load['requests']} JS/CSS files, {load['raw']} KB raw, "
              f"{load['gzip']} KB gzipped, {load['wire']} KB on the wire   (target < 150 KB gzipped)")
        return
    figures = {
        "first_screen": load,
        "throttle": {"down_kbps": 1600, "up_kbps": 750, "rtt_ms": 150, "cpu_slowdown": CPU_SLOWDOWN},
        "cold_s": {"median": round(statistics.median(colds), 2), "runs": [round(x, 2) for x in colds]},
        "warm_s": {"median": round(statistics.median(warms), 2), "runs": [round(x, 2) for x in warms],
                   "service_worker_in_control": all(controlled)},
    }
    print(f"Worker's first screen (/m/round, 360×640): {load['requests']} JS/CSS files, "
          f"{load['raw']} KB raw, {load['gzip']} KB gzipped, {load['wire']} KB on the wire"
          f"{' — ECharts included!' if load['echarts'] else ', no ECharts'}   (target < 150 KB gzipped)")
    print(f"  besides: fonts {load['fonts_kb']} KB (Vant's icon font, woff2, fetched in parallel)")
    print(f"Throttled (1.6 Mbps down, 150 ms RTT, CPU ×{CPU_SLOWDOWN}) to a usable round, median of {args.runs}:")
    print(f"  cold (first visit, no service worker): {figures['cold_s']['median']:.2f} s  "
          f"{figures['cold_s']['runs']}   (target < 6 s)")
    print(f"  warm (service worker in control: {all(controlled)}): {figures['warm_s']['median']:.2f} s  "
          f"{figures['warm_s']['runs']}   (target < 3 s)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
