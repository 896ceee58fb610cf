"""The built frontend as an old phone on one bar of signal gets it: legacy scripts that parse as ES2015, inline
loaders allowed by the CSP, assets served precompressed (brotli, gzip) with a year's immutable cache, the index
never cached. Needs the build (`make frontend`; `make test` builds it)."""

import base64
import hashlib
import re
import shutil
import subprocess

import pytest
from django.conf import settings

FRONTEND = settings.BASE_DIR / "frontend"
INDEX = settings.FRONTEND_DIST / "index.html"


@pytest.fixture(scope="module")
def index_html():
    if not INDEX.exists():
        pytest.fail("The frontend is not built: run `make frontend` (make test builds it).")
    return INDEX.read_text(encoding="utf-8")


def check_legacy(dist):
    return subprocess.run([shutil.which("node") or "node", "scripts/check-legacy.mjs", str(dist)], cwd=FRONTEND,
                          capture_output=True, text=True, timeout=120)


def test_every_legacy_script_parses_as_es2015(index_html):
    result = check_legacy(settings.FRONTEND_DIST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"check-legacy: (\d+)/\1 legacy scripts parse as ES2015", result.stdout)


def test_the_check_fails_on_newer_syntax(index_html, tmp_path):
    (tmp_path / "assets").mkdir()
    shutil.copy(INDEX, tmp_path / "index.html")
    for src in (settings.FRONTEND_DIST / "assets").glob("*-legacy-*.js"):
        shutil.copy(src, tmp_path / "assets" / src.name)
    (tmp_path / "assets" / "late-legacy-Ab12Cd34.js").write_text("var a = window.b?.c ?? 1;\n")
    result = check_legacy(tmp_path)
    assert result.returncode == 1 and "late-legacy-Ab12Cd34.js" in result.stderr


def test_index_has_a_module_entry_and_a_nomodule_fallback(index_html):
    assert re.search(r'<script type="module"[^>]*src="/static/assets/index-[\w-]+\.js"', index_html)
    assert re.search(r'<script nomodule[^>]*id="vite-legacy-polyfill" src="/static/assets/polyfills-legacy-', index_html)
    assert re.search(r'<script nomodule[^>]*id="vite-legacy-entry" data-src="/static/assets/index-legacy-', index_html)
    assert '<link rel="manifest" href="/static/manifest.webmanifest"' in index_html
    # The modern/legacy check is a file of this origin, not a data: import that the CSP would refuse.
    assert "data:text/javascript" not in index_html
    check = re.search(r'<script type="module" src="/static/(assets/modern-check-[\w-]+\.js)"></script>', index_html)
    source = (settings.FRONTEND_DIST / check.group(1)).read_text()
    assert "import.meta.resolve" in source and source.rstrip().endswith("window.__vite_is_modern_browser=true")


def test_every_inline_script_is_allowed_by_the_csp(index_html):
    allowed = set(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"])
    inline = [body for attrs, body in re.findall(r"<script\b([^>]*)>([\s\S]*?)</script>", index_html)
              if body.strip() and "src=" not in attrs.replace("data-src=", "")]
    assert len(inline) == 3  # plugin-legacy's Safari 10 fix, SystemJS entry, dynamic fallback
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, body[:80]


def asset(index_html, pattern):
    return re.search(rf'/static/assets/{pattern}', index_html).group(0)


@pytest.mark.parametrize("encoding, header", [("br", "br"), ("gzip", "gzip"), ("br, gzip", "br")])
def test_hashed_assets_go_out_precompressed_and_immutable(client, index_html, encoding, header):
    url = asset(index_html, r"index-[\w-]+\.js")
    response = client.get(url, HTTP_ACCEPT_ENCODING=encoding)
    assert response.status_code == 200
    assert response["Content-Encoding"] == header
    assert response["Cache-Control"] == "max-age=31536000, public, immutable"
    assert "Accept-Encoding" in response["Vary"]
    body = b"".join(response.streaming_content)
    suffix = ".br" if header == "br" else ".gz"
    assert body == (settings.FRONTEND_DIST / (url.removeprefix("/static/") + suffix)).read_bytes()


def test_css_and_legacy_chunks_too_and_plain_for_clients_without_compression(client, index_html):
    css = asset(index_html, r"[\w-]+\.css")
    assert client.get(css, HTTP_ACCEPT_ENCODING="gzip")["Content-Encoding"] == "gzip"
    legacy = asset(index_html, r"polyfills-legacy-[\w-]+\.js")
    plain = client.get(legacy)
    assert "Content-Encoding" not in plain and plain["Cache-Control"].endswith("immutable")


def test_index_and_service_worker_are_never_cached(client, index_html):
    for path in ("/", "/m/round", "/login"):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert client.get("/sw.js")["Cache-Control"] == "no-cache"


def test_manifest_makes_the_worker_app_installable(client, index_html):
    response = client.get("/static/manifest.webmanifest")
    assert response.status_code == 200 and response["Content-Type"] == "application/manifest+json"
    manifest = __import__("json").loads(b"".join(response.streaming_content))
    assert manifest["start_url"] == "/m/round" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
