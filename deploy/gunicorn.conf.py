"""gunicorn settings; every value can be overridden by environment variables."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Workers are not recycled by default: restarting every 2,000 requests cost about a quarter of the request
# ceiling in one comparison here (deploy/SIZING.md). Set it only against a proven leak.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = 200 if max_requests else 0
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# A request line up to 8 KB reaches Django (gunicorn's own limit is 4 KB and answers in plain text/HTML);
# the API then refuses over-long query strings itself, in its JSON error shape (api/filters.py).
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", 8190))


def child_exit(server, worker):
    """Prometheus multiprocess mode (PROMETHEUS_MULTIPROC_DIR): forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
