"""Serves the built frontend's index.html for the app's routes (assets come from whitenoise)."""

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from whitenoise.middleware import WhiteNoiseMiddleware

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>GridCase</title>
<p>前端尚未构建：请运行 <code>make run</code>（或 <code>cd frontend && npm ci && npm run build</code>）。</p>
<p>The frontend is not built yet: run <code>make run</code>. The API is at <a href="/api/docs/">/api/docs/</a>.</p>"""


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, with hashed assets (WHITENOISE_IMMUTABLE_FILE_TEST) cached for one year rather than ten:
    `Cache-Control: max-age=31536000, public, immutable`."""

    FOREVER = 365 * 24 * 60 * 60


@never_cache  # it names the current hashed assets: always asked for again, never kept by a cache
@ensure_csrf_cookie
def spa_index(request):
    index = settings.FRONTEND_DIST / "index.html"
    if not index.exists():
        return HttpResponse(NOT_BUILT, status=503)
    return HttpResponse(index.read_text(encoding="utf-8"))


def service_worker(request):
    """The frontend's service worker at the site root, so its scope covers every app route."""
    worker = settings.FRONTEND_DIST / "sw.js"
    if not worker.exists():
        return HttpResponse("// not built", status=404, content_type="application/javascript")
    response = HttpResponse(worker.read_text(encoding="utf-8"), content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    return response
