"""Resident intake over HTTP: public (no sign-in), throttled per IP on every write."""

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridcase.core.errors import Forbidden, NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid
from gridcase.grids.roles import EDITOR_ROLES, MANAGER_ROLES
from gridcase.grids.scoping import scope_for
from gridcase.intake import guard, posters, services

from ..filters import check_query_params
from . import serializers as s

ERRORS = {400: s.ErrorSerializer, 404: s.ErrorSerializer, 409: s.ErrorSerializer, 429: s.ErrorSerializer}


class PublicView(APIView):
    """No sign-in. Writes are throttled by gridcase.intake.guard (the real client address and the QR token, in
    the shared cache), not by DRF's per-process throttles."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []


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
        guard.throttle(request, grid.qr_token)
        body = _body(request)
        guard.check_form(body)
        result = services.submit(grid, body)
        return Response(_receipt(result.ticket), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


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
        guard.throttle(request, ticket.grid.qr_token)
        body = _body(request)
        ticket = services.rate(ticket, body.get("rating"), body.get("comment", ""))
        return Response(services.tracking(ticket))


class SimilarView(PublicView):
    """已有人反映: open reports of the same category nearby (same micro-grid, or within INTAKE_DUPLICATE_METRES of
    `lat`/`lng`) in the last days — category, status in plain words, when, how far; never another resident's
    words or name. Each carries a `ref` to follow it by."""

    @extend_schema(parameters=[OpenApiParameter("category", int, required=True),
                               OpenApiParameter("lat", float), OpenApiParameter("lng", float)],
                   responses={200: s.SimilarSerializer(many=True), **ERRORS}, auth=[])
    def get(self, request, qr_token):
        grid = services.grid_for_token(qr_token)
        q = request.query_params
        return Response(services.similar(grid, q.get("category"), q.get("lat"), q.get("lng")))


class FollowView(PublicView):
    """点此关注: a tracking code of one's own for a report already made (idempotent on `client_key`)."""

    @extend_schema(request=s.FollowSerializer, responses={201: s.IntakeReceiptSerializer,
                                                          200: s.IntakeReceiptSerializer, **ERRORS}, auth=[])
    def post(self, request, qr_token):
        grid = services.grid_for_token(qr_token)
        guard.throttle(request, grid.qr_token)
        result = services.follow(grid, _body(request))
        return Response(_receipt(result.ticket), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class PhotoView(PublicView):
    """A photo of one's own report (at most 3; JPEG, PNG or WebP, checked like every attachment)."""

    parser_classes = [parsers.MultiPartParser]

    @extend_schema(request={"multipart/form-data": s.PhotoUploadSerializer},
                   responses={201: s.PhotoReceiptSerializer, **ERRORS, 413: s.ErrorSerializer,
                              415: s.ErrorSerializer}, auth=[])
    def post(self, request, code):
        ticket = services.ticket_for_code(code)
        guard.throttle(request, ticket.grid.qr_token)
        services.add_photo(ticket, request.FILES.get("file"))
        return Response({"photos": services.photo_count(ticket.case), "max_photos": services.MAX_PHOTOS},
                        status=status.HTTP_201_CREATED)


def _receipt(ticket) -> dict:
    case = ticket.case
    return {"code": ticket.code, "number": case.number, "status": case.status,
            "status_text": str(services.STATUS_WORDS[case.status]),
            "track_url": f"/api/v1/intake/track/{ticket.code}/", "page_url": f"/intake/track/{ticket.code}"}


# --- staff: QR posters, token rotation, the published phone ------------------------------------------------------

def _staff_grid(request, grid_id, write=False):
    """A grid in the caller's scope (404 otherwise); changing its QR settings needs an editor's or manager's role."""
    grid = Grid.objects.restrict(request.user).filter(pk=grid_id).first() if str(grid_id).isdigit() else None
    if grid is None:
        raise NotFound()
    if write:
        scope = scope_for(request.user)
        if not (scope.is_global or scope.roles_at(grid) & (EDITOR_ROLES | MANAGER_ROLES)):
            raise Forbidden()
    return grid


class QrSettingsView(APIView):
    """A micro-grid's QR code: its address, the published work phone; PATCH `public_phone`."""

    permission_classes = [IsAuthenticated]

    def present(self, grid):
        return {"grid": grid.pk, "name": grid.name, "code": grid.code, "level": grid.level,
                "url": posters.intake_url(grid), "public_phone": grid.public_phone}

    @extend_schema(responses={200: s.QrSettingsSerializer, 404: s.ErrorSerializer})
    def get(self, request, grid_id):
        return Response(self.present(_staff_grid(request, grid_id)))

    @extend_schema(request=s.QrPhoneSerializer, responses={200: s.QrSettingsSerializer, **ERRORS})
    def patch(self, request, grid_id):
        grid = _staff_grid(request, grid_id, write=True)
        phone = _body(request).get("public_phone", "")
        if not isinstance(phone, str) or (phone.strip() and not services.PHONE_RE.match(phone.strip())):
            raise ValidationFailed(fields={"public_phone": [_("Enter a phone number.")]})
        grid.public_phone = phone.strip()
        Grid.objects.filter(pk=grid.pk).update(public_phone=grid.public_phone)
        return Response(self.present(grid))


class QrRotateView(APIView):
    """A new QR token for a micro-grid: posters with the old one open a page saying they were replaced."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: s.QrSettingsSerializer, **ERRORS})
    def post(self, request, grid_id):
        grid = _staff_grid(request, grid_id, write=True)
        if grid.level != Level.MICRO_GRID:
            raise ValidationFailed(_("Only micro-grids carry a QR code."), code="not_a_micro_grid")
        return Response(QrSettingsView().present(services.rotate_token(grid)))


class PosterView(APIView):
    """`?grid=<id>`: an A4 PDF poster of that micro-grid, or one page for every micro-grid under that node."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("grid", int, required=True)],
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: s.ErrorSerializer})
    def get(self, request):
        check_query_params(request, self, extra=("grid",))
        node = _staff_grid(request, request.query_params.get("grid"))
        grids = (Grid.objects.restrict(request.user).filter(tree.subtree_q([tree.span(node)]),
                                                              level=Level.MICRO_GRID).order_by("code"))
        grids = list(grids[:posters.MAX_PAGES])
        if not grids:
            raise NotFound(_("There is no micro-grid here."), code="no_micro_grids")
        response = HttpResponse(posters.render(grids), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="qr-posters-{node.code}.pdf"'
        return response
