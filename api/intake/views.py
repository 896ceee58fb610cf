"""Resident intake over HTTP: public (no sign-in), throttled per IP on every write."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from gridcase.core.errors import ValidationFailed
from gridcase.intake import services

from . import serializers as s

ERRORS = {400: s.ErrorSerializer, 404: s.ErrorSerializer, 409: s.ErrorSerializer, 429: s.ErrorSerializer}


class IntakeThrottle(ScopedRateThrottle):
    """Scope `intake` (REST_FRAMEWORK DEFAULT_THROTTLE_RATES); the rate is read per request so settings
    overrides apply. Only writes are throttled: reading the page or a status costs nothing to abuse."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class PublicView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [IntakeThrottle]
    throttle_scope = "intake"


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationFailed(_("Send a JSON object."), code="malformed_request")
    return dict(request.data.items())


class IntakeView(PublicView):
    """The page behind a micro-grid's QR code: where the resident is, who their worker is, what they may report."""

    @extend_schema(responses={200: s.IntakePageSerializer, 404: s.ErrorSerializer}, auth=[])
    def get(self, request, qr_token):
        return Response(services.intake_page(services.grid_for_token(qr_token)))

    @extend_schema(request=s.IntakeReportSerializer, responses={201: s.IntakeReceiptSerializer,
                                                                200: s.IntakeReceiptSerializer, **ERRORS}, auth=[])
    def post(self, request, qr_token):
        """Report a problem. Idempotent on `client_key`: 201 the first time, 200 for a resend of the same report,
        409 for a different report under the same key. Throttled per IP (429 `throttled`)."""
        grid = services.grid_for_token(qr_token)
        result = services.submit(grid, _body(request))
        ticket = result.ticket
        body = {"code": ticket.code, "number": ticket.case.number, "status": ticket.case.status,
                "status_text": str(services.STATUS_WORDS[ticket.case.status]),
                "track_url": f"/api/v1/intake/track/{ticket.code}/"}
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class TrackView(PublicView):
    """A resident's report by its tracking code: status in plain words and a public timeline."""

    @extend_schema(responses={200: s.TrackingSerializer, 404: s.ErrorSerializer}, auth=[])
    def get(self, request, code):
        return Response(services.tracking(services.ticket_for_code(code)))


class RateView(PublicView):
    """Rate the result once after closing; `dissatisfied` reopens the case."""

    @extend_schema(request=s.RatingSerializer, responses={200: s.TrackingSerializer, **ERRORS}, auth=[])
    def post(self, request, code):
        ticket = services.ticket_for_code(code)
        body = _body(request)
        ticket = services.rate(ticket, body.get("rating"), body.get("comment", ""))
        return Response(services.tracking(ticket))
