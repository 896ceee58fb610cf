"""One JSON error shape for the whole API: `{"code", "message", "fields"}` (+ `current` on conflicts).

Messages follow the caller's language (Accept-Language, zh-hans by default).
"""

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from gridcase.core.errors import DomainError

CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def _flatten(detail):
    if isinstance(detail, dict):
        return {k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": [str(x) for x in detail]}
    return {}


def _first_message(fields, fallback):
    for messages in fields.values():
        for m in messages:
            if isinstance(m, str) and m:
                return m
    return fallback


def django_validation_to_fields(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


class ErrorSerializer(serializers.Serializer):
    """The one error shape (component `Error` in the schema)."""

    code = serializers.CharField(help_text="machine-readable: validation_error, not_found, conflict, …")
    message = serializers.CharField(help_text="for people, in the caller's language")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="messages per input field (or query parameter)")
    reason = serializers.CharField(required=False, help_text="a finer code for some validation errors")
    current = serializers.DictField(required=False, help_text="the object as it is now (409/412 on a version "
                                                              "conflict, 409 on an invalid transition)")


def too_large_body():
    return {"code": "too_large", "message": _("The request body is too large."), "fields": {}}


def _suspicious(exc):
    """Request bodies Django refuses before any view reads them (size, field and file counts)."""
    if isinstance(exc, RequestDataTooBig):
        return too_large_body(), 413
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return {"code": "malformed_request", "message": _("The request has too many fields or files."),
                "fields": {}}, 400
    return {"code": "malformed_request", "message": _("The request is not valid."), "fields": {}}, 400


def exception_handler(exc, context):
    if isinstance(exc, SuspiciousOperation):
        body, status = _suspicious(exc)
        return Response(body, status=status)
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "message": str(exc.message), "fields": {k: [str(m) for m in v] for k, v in exc.fields.items()}}
        if exc.current is not None:
            body["current"] = exc.current
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = django_validation_to_fields(exc)
        code = getattr(exc, "code", None) or "validation_error"
        return Response({"code": "validation_error", "reason": code, "message": _first_message(fields, _("The request is not valid.")),
                         "fields": fields}, status=400)
    if isinstance(exc, OverflowError | DataError):
        # A number too large for the column (e.g. ?worker=99999999999999999999): bad input, not a crash.
        return Response({"code": "validation_error", "message": _("A value is out of range."), "fields": {}},
                        status=400)
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away (restart, failover, a dropped connection): what was not committed is rolled
        # back, a retry with the same client key cannot duplicate, and the next request reconnects.
        response = Response({"code": "unavailable", "message": _("The service is briefly unavailable. Try again."),
                             "fields": {}}, status=503)
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, IntegrityError):
        return Response({"code": "conflict", "message": _("This conflicts with existing data (duplicate or in use)."),
                         "fields": {}}, status=409)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(detail)
        message = _first_message(fields, _("The request is not valid."))
        code = "validation_error"
    else:
        fields = {}
        message = str(detail.get("detail", "")) if isinstance(detail, dict) else str(detail)
        code = CODES.get(response.status_code, "error")
        if isinstance(exc, exceptions.ParseError):
            code = "malformed_request"
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            code = "not_authenticated"
    response.data = {"code": code, "message": message, "fields": fields}
    return response


# --- Django's own error pages, for requests that never reach a DRF view ---------------------------------------
# (an unknown /api/… path, a body refused by a middleware). Under /api/ they answer in the same JSON shape;
# elsewhere (the app, admin) Django's pages stay.

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def handler400(request, exception=None):
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    body, status = _suspicious(exception) if isinstance(exception, SuspiciousOperation) else (
        {"code": "malformed_request", "message": _("The request is not valid."), "fields": {}}, 400)
    return JsonResponse(body, status=status)


def handler403(request, exception=None):
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse({"code": "forbidden", "message": _("You do not have permission to do this."),
                         "fields": {}}, status=403)


def handler404(request, exception=None):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"code": "not_found", "message": _("Not found."), "fields": {}}, status=404)


def handler500(request):
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse({"code": "server_error", "message": _("Something went wrong on our side. Please try "
                                                              "again later."), "fields": {}}, status=500)
