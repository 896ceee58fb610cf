"""Request body parsers: JSON with a size limit and no crash on absurd nesting.

DRF's JSON parser reads the whole stream (Django's DATA_UPLOAD_MAX_MEMORY_SIZE only guards `request.body`),
and 100,000 nested `[` make the standard library raise RecursionError, which is no ValueError. Both answer
in the API's error shape here: 413 `too_large` and 400 `malformed_request`.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = _("The request body is too large.")
    default_code = "too_large"


def body_limit() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def check_length(parser_context) -> None:
    request = (parser_context or {}).get("request")
    limit = body_limit()
    if request is None or limit is None:
        return
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        length = 0
    if length > limit:
        raise BodyTooLarge()


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # Django's request stream never reads past Content-Length, so checking it bounds what is read.
        check_length(parser_context)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON parse error - the document is nested too deeply."))


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_length(parser_context)
        return super().parse(stream, media_type, parser_context)
