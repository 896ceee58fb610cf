"""Open311 GeoReport v2 over HTTP (/open311/v2/): plain Django views, because the spec fixes its own formats —
`.json` or `.xml` by the path's suffix, form-encoded POSTs, errors as `[{"code": …, "description": …}]` (or
`<errors><error>…`). The rules are in gridcase.interop.open311."""

import json
from xml.etree import ElementTree as ET

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from gridcase.interop import open311
from gridcase.interop.open311 import Open311Error

ROOTS = {"services": ("services", "service"), "requests": ("service_requests", "request"),
         "errors": ("errors", "error")}


def _xml(kind: str, rows: list[dict]) -> bytes:
    root_name, item_name = ROOTS[kind]
    root = ET.Element(root_name)
    for row in rows:
        item = ET.SubElement(root, item_name)
        for key, value in row.items():
            child = ET.SubElement(item, key)
            if value is None:
                continue
            child.text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def render(fmt: str, kind: str, rows: list[dict], status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(kind, rows), status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(rows, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _params(request) -> dict:
    """Query string, then the form body (the spec's POST), then a JSON object body (clients that send one)."""
    params = {k: v for k, v in request.GET.items()}
    if request.method == "POST":
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                raise Open311Error(400, "The JSON body could not be read.")
            if not isinstance(body, dict):
                raise Open311Error(400, "Send the request's fields as a form or a JSON object.")
            params.update({k: v for k, v in body.items() if isinstance(v, (str, int, float))})
        else:
            params.update({k: v for k, v in request.POST.items()})
    return params


def open311_view(handler):
    """Formats and errors, once: any Open311Error becomes the spec's error list in the asked format."""

    @csrf_exempt
    def view(request, fmt, **kwargs):
        try:
            params = _params(request)
            kind, rows, status = handler(request, params, **kwargs)
        except Open311Error as exc:
            return render(fmt, "errors", [{"code": exc.status, "description": exc.description}], exc.status)
        return render(fmt, kind, rows, status)

    view.__name__ = handler.__name__
    return view


@require_http_methods(["GET"])
@open311_view
def services(request, params):
    open311.check_jurisdiction(params.get("jurisdiction_id"))
    return "services", open311.services(), 200


@require_http_methods(["GET"])
@open311_view
def service_definition(request, params, code):
    # Every service has metadata=false: there is no definition to give (the spec's 404 for that case).
    raise Open311Error(404, f"Service {code[:40]} has no attributes (metadata is false).")


@require_http_methods(["GET", "POST"])
@open311_view
def requests(request, params):
    if request.method == "POST":
        return "requests", open311.create_request(open311.client_for_key(params.get("api_key")), params), 201
    return "requests", open311.list_requests(open311.optional_client(params.get("api_key")), params), 200


@require_http_methods(["GET"])
@open311_view
def request_detail(request, params, request_id):
    open311.check_jurisdiction(params.get("jurisdiction_id"))
    return "requests", open311.get_request(open311.optional_client(params.get("api_key")), request_id), 200


@require_http_methods(["GET"])
@open311_view
def token(request, params, token_id):
    open311.check_jurisdiction(params.get("jurisdiction_id"))
    return "requests", open311.token_lookup(token_id), 200


@open311_view
def unknown(request, params, rest=""):
    raise Open311Error(404, "No such Open311 resource.")
