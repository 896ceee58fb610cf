"""One JSON error shape for the whole API: `{"code", "message", "fields"}` (+ `current` on conflicts).

Messages follow the caller's language (Accept-Language, zh-hans by default).
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
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


def exception_handler(exc, context):
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
