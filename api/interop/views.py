"""The 12345 hotline link over HTTP: the platform's signed pushes (no sign-in: the HMAC is the credential) and
the console's list of hotline tickets with their callbacks' delivery state. Rules: gridcase.interop.hotline."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.cases.models import Case
from gridcase.interop import hotline
from gridcase.interop.models import HotlineTicket

from ..intake.serializers import ErrorSerializer
from ..pagination import StrictCursorPagination
from . import serializers as s


class TicketPagination(StrictCursorPagination):
    ordering = ("-id",)
    page_size = 50
    max_page_size = 200


class HotlineInboundView(APIView):
    """A ticket pushed by the 12345 platform. Signed: `X-Hotline-Signature: t=<unix>,v1=<HMAC-SHA256 hex of
    "<t>." + body>` with HOTLINE_SECRET. 201 when filed, 200 for a ticket id already received with the same
    content; 401 `bad_signature`/`stale_signature`, 409 `replayed`/`ticket_changed`, 400 with the field; 404
    `hotline_not_configured` where HOTLINE_SECRET is not set."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(request=s.HotlineTicketInSerializer, auth=[],
                   parameters=[OpenApiParameter(hotline.HEADER, str, OpenApiParameter.HEADER, required=True)],
                   responses={201: s.HotlineReceiptSerializer, 200: s.HotlineReceiptSerializer, 400: ErrorSerializer,
                              401: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request):
        raw = request.body  # the exact bytes that were signed (read before any parsing)
        ticket, created = hotline.receive(request.headers.get(hotline.HEADER), raw)
        return Response(hotline.answer(ticket, created), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class HotlineTicketsView(APIView):
    """Hotline tickets whose case you may see, newest first, each with its callbacks (stage, delivery state)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: inline_serializer("HotlineTicketPage", {
        "next": serializers.URLField(allow_null=True), "previous": serializers.URLField(allow_null=True),
        "results": s.HotlineTicketSerializer(many=True)}), 400: ErrorSerializer},
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)])
    def get(self, request):
        visible = Case.objects.restrict(request.user).values("pk")
        qs = HotlineTicket.objects.filter(case__in=visible).select_related("case__grid")
        paginator = TicketPagination()
        page = paginator.paginate_queryset(qs, request, self)
        return paginator.get_paginated_response(hotline.console_rows(page))
