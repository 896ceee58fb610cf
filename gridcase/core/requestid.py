"""One id per request, in every log line it causes — the web process's and the Celery tasks it queued.

nginx sends `X-Request-ID` (its `$request_id`); without one the middleware makes one. The id is answered in
the `X-Request-ID` header, kept in a context variable for the log filter, put into the headers of every task
published while the request runs, and restored around the task in the worker, so `grep <id>` finds a
report's request, the notification it queued and the webhook delivery.

Logs are JSON lines (`LOG_FORMAT=json`, the production default): time in UTC (ISO 8601, `Z`), level, logger,
message, request_id, and for a task its name and id — one time zone for web, workers and beat.
"""

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("gridcase_request_id", default="")
HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current() -> str:
    return request_id.get()


class RequestIdMiddleware:
    """The request's id: the proxy's (when well-formed) or a new one; answered in X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = given if _VALID.match(given) else uuid.uuid4().hex
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (and, in a worker, `task`/`task_id`) to every record."""

    def filter(self, record):
        record.request_id = request_id.get()
        if not hasattr(record, "task"):
            task = _task.get()
            record.task, record.task_id = task if task else ("", "")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; time in UTC."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "task", "task_id"):
            if getattr(record, key, ""):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Development: readable lines, still in UTC and still carrying the request id."""

    def formatTime(self, record, datefmt=None):  # noqa: N802
        return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"

    def format(self, record):
        rid = getattr(record, "request_id", "")
        record.rid = f" [{rid[:12]}]" if rid else ""
        return super().format(record)


# --- Celery: carry the id into the tasks a request queues -------------------------------------------------------

_task: ContextVar[tuple[str, str] | None] = ContextVar("gridcase_task", default=None)
_tokens: dict[str, tuple] = {}


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    @before_task_publish.connect(weak=False)
    def _publish(headers=None, **kwargs):
        rid = request_id.get()
        if rid and headers is not None:
            headers.setdefault("request_id", rid)

    @task_prerun.connect(weak=False)
    def _before(task_id=None, task=None, **kwargs):
        rid = getattr(task.request, "request_id", None) or (task.request.headers or {}).get("request_id", "") \
            if task is not None else ""
        _tokens[task_id] = (request_id.set(rid or ""), _task.set((getattr(task, "name", ""), task_id or "")))

    @task_postrun.connect(weak=False)
    def _after(task_id=None, **kwargs):
        tokens = _tokens.pop(task_id, None)
        if tokens:
            request_id.reset(tokens[0])
            _task.reset(tokens[1])
