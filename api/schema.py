"""The OpenAPI schema's own rules, applied to every operation in one place.

- Error answers: each operation documents the `Error` shape (`{code, message, fields}`) for the statuses it
  can answer — 400 always (bad input, unknown query parameters, malformed bodies); 401/403/404 when it needs
  a signed-in caller (any id it names may lie outside their area); 404 when its path names an object; 409 for writes (stale version, invalid transition,
  duplicates); 412 when its body carries a case `version` (a failed `If-Match`); 413/415 when it takes a
  body; 429 when it is throttled. A view adds others with `@extend_schema(responses=…)` as usual.
- Filters are documented on lists only: a viewset's extra actions (`events`, `due`, …) do not run the list's
  filterset, so their schema does not offer it (and `api.filters.check_query_params` refuses it).
"""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, TextField
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.settings import api_settings

from .errors import ErrorSerializer

ERRORS = {
    400: "Invalid input: `fields` names each problem (body fields or query parameters); `unknown_parameter` "
         "for a query parameter the operation does not take; `malformed_request` for a body that is not JSON.",
    401: "Not signed in (no or an expired token).",
    403: "Signed in, but the caller's roles do not allow this here.",
    404: "Nothing with this id in the caller's area (objects outside it do not exist for them); for a path, "
         "query parameter or body field naming an object.",
    409: "Conflict: a stale `version` (with `current`), an action not allowed in the current status "
         "(`invalid_transition`), or data that clashes with existing data.",
    412: "`If-Match` did not match the current version (with `current`).",
    413: "The request body is too large (`too_large`).",
    415: "The body's media type is not accepted here.",
    429: "Too many requests (`throttled`); retry later.",
}

class TokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Token <key>` (api.authentication, knox tokens from POST /api/v1/auth/login/): without
    it the schema would name only the session cookie, and a client with a token would look unauthenticated."""

    target_class = "api.authentication.TokenAuthentication"
    match_subclasses = True
    optional = True
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


# The reusable responses, one per status: `@extend_schema(responses={**error_responses(404)})` where a view
# needs one the rules below do not give it.
RESPONSES = {code: OpenApiResponse(ErrorSerializer, description=text) for code, text in ERRORS.items()}


def error_responses(*codes) -> dict:
    return {code: RESPONSES[code] for code in codes}


def _model_field(field):
    """The model field behind a ModelSerializer field (None when there is none)."""
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    if model is None or not isinstance(getattr(field, "source", None), str) or "." in field.source:
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


class AutoSchema(BaseAutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # DRF drops `allow_blank` from fields listed in `read_only_fields`, so a blank choice column
        # (`sla_stage`, `rating` before rating) would be documented as never "". Put the truth back.
        # Likewise a read-only id of a nullable foreign key (`case = IntegerField(source="case_id")`).
        if getattr(field, "read_only", False):
            model_field = _model_field(field)
            if model_field is not None and not model_field.auto_created:  # a reverse relation has neither
                if model_field.blank and isinstance(model_field, CharField | TextField) \
                        and isinstance(field, serializers.ChoiceField):
                    field.allow_blank = True
                if model_field.null:
                    field.allow_null = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def get_filter_backends(self):
        action = getattr(self.view, "action", None)
        if action is not None and action != "list":
            return []
        return super().get_filter_backends()

    def map_parsers(self):
        # A view that keeps the default parsers takes JSON (forms are tolerated, not offered); one that names its
        # parsers (uploads: attachments, imports, visits with a photo) documents each media type it takes.
        if self.view.parser_classes is api_settings.DEFAULT_PARSER_CLASSES:
            return ["application/json"]
        return super().map_parsers()

    def error_codes(self) -> set:
        codes = {400}
        if self.get_auth() and not self._allows_anyone():
            # Any id a signed-in caller names (in the path, a query parameter or the body) may lie outside
            # their area, and then it does not exist for them.
            codes |= {401, 403, 404}
        if "{" in self.path:
            codes.add(404)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.add(409)
        if self.method in ("POST", "PUT", "PATCH"):
            codes |= {413, 415}
            if "version" in self._request_fields():
                codes.add(412)
        # Throttled views, and every public write (login, resident intake): those count attempts themselves.
        public_write = self.method == "POST" and not self.view.get_authenticators()
        if self.view.get_throttles() or public_write or getattr(self.view, "throttled", False):
            codes.add(429)
        return codes

    def _allows_anyone(self) -> bool:
        from rest_framework.permissions import AllowAny

        return all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _request_fields(self) -> set:
        serializer = self.get_request_serializer()
        if isinstance(serializer, dict):  # per media type
            serializer = next(iter(serializer.values()), None)
        if isinstance(serializer, type):
            try:
                serializer = serializer()
            except TypeError:
                return set()
        return set(getattr(serializer, "fields", {}) or {})

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in sorted(self.error_codes()):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(RESPONSES[code], str(code), direction=direction)
        for code, response in responses.items():
            # An error a view described in words only (`OpenApiResponse(description=…)`) still has the shape.
            if code[0] in "45" and not response.get("content"):
                shaped = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code] = {**shaped, "description": response.get("description") or ERRORS.get(int(code), "")}
        return responses
