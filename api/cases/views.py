"""Cases over HTTP. Thin: every rule is in gridcase.cases (workflow, services); this file maps requests to it."""

from typing import NamedTuple

from django.db import connection
from django.db.models import Count, Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.cases import assignees, categories, journey, merged, overlap, services, state, workflow
from gridcase.cases import choices as state_choices
from gridcase.cases.choices import AttachmentKind, SlaState, Status
from gridcase.cases.models import Case, CaseEvent, Category, ResponseTemplate
from gridcase.core.errors import Forbidden, NotFound, ValidationFailed
from gridcase.deliberation import links as deliberation_links
from gridcase.grids.scoping import scope_for
from gridcase.intake import duplicates
from gridcase.intake import services as intake_services

from .. import exports
from ..filters import ALWAYS, check_query_params
from ..pagination import AscendingIdCursorPagination, CountedIdsFirstCursorPagination, PreparedIds
from ..parsers import JSONParser
from . import actions, filtersets
from .bulk import BulkReassignMixin
from .serializers import (
    AssigneeSerializer,
    AttachmentSerializer,
    CaseCreateSerializer,
    CaseEventSerializer,
    CaseSerializer,
    CategorySerializer,
    ReportGridSerializer,
    ResponseTemplateSerializer,
)

LIST_FIELDS = ("departments", "photos")


class Queue(NamedTuple):
    key: str
    where: object  # Q or boolean expression: the cases in the queue
    params: dict  # the case-list filter that lists the same cases


_OPEN = [s for s in Status.values if s in state_choices.ACTIVE and s not in (Status.RESOLVED, Status.VERIFIED)]
QUEUES = (
    Queue("new", Q(status=Status.REPORTED), {"status": Status.REPORTED}),
    Queue("sla", Q(status__in=_OPEN, sla_state__in=[SlaState.RED, SlaState.YELLOW]),
          {"status": ",".join(_OPEN), "sla_state": f"{SlaState.RED},{SlaState.YELLOW}"}),
    Queue("verification", Q(status=Status.RESOLVED), {"status": Status.RESOLVED}),
    Queue("report_in", filtersets.AWAITING_REPORT_IN, {"awaiting_report_in": "true"}),
)


def body_of(request) -> dict:
    data = request.data
    if isinstance(data, QueryDict):
        return {k: (data.getlist(k) if k in LIST_FIELDS else data.get(k)) for k in data}
    if not isinstance(data, dict):
        raise ValidationFailed(_("Send a JSON object."), code="malformed_request")
    return dict(data)


def version_of(request, body):
    """`version` from the body, or from an `If-Match` header (then a stale one answers 412)."""
    header = request.headers.get("If-Match")
    if header not in (None, ""):
        return header, True
    return body.get("version"), False


class CaseViewSet(BulkReassignMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases in the caller's scope. Out of scope answers 404; every change goes through the workflow."""

    queryset = Case.objects.all()
    serializer_class = CaseSerializer
    filterset_class = filtersets.CaseFilter
    pagination_class = CountedIdsFirstCursorPagination  # a dashboard's drill-down asks for the count
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    export = exports.case_export_action()  # GET /cases/export/?<the list's filters> (api/exports.py)

    def get_queryset(self):
        # The list pages ids through the scope and filters alone; `rows_of` then reads the page with its joins.
        return Case.objects.restrict(self.request.user)

    def get_serializer_context(self):
        return super().get_serializer_context() | {"scope": scope_for(self.request.user)}

    def rows_of(self, ids):
        """A page's cases by id (the pagination found them in the scoped, filtered list): the statement carries
        the joins a case is shown with but none of the list's conditions (one prepared statement)."""
        return workflow.read_many(ids)

    def present(self, case):
        """One case, its hop ledger included (read with the case by `retrieve`; one query more otherwise)."""
        if not hasattr(case, "hop_rows"):
            case.hop_rows = journey.hops_of(case.pk)
        if not hasattr(case, "duplicate_rows"):
            case.duplicate_rows = merged.duplicates_of(case.pk, scope_for(self.request.user))
        if not hasattr(case, "topic_rows"):
            deliberation_links.links_of(case, scope_for(self.request.user))
        return CaseSerializer(case, context=self.get_serializer_context()).data

    def get_case(self):
        case = workflow.load(self.kwargs["pk"], scope_for(self.request.user))
        if case is None:
            raise NotFound()
        return case

    def listed(self):
        """The filtered list the paginator pages: on PostgreSQL, when every parameter can be keyed, ids from a
        statement compiled once per caller and filter values (api.pagination.PreparedIds); else the queryset (and
        when a count is asked, which counts that queryset)."""
        request = self.request
        if connection.vendor == "postgresql" and request.query_params.get("with_count") != "true":
            found = filtersets.CaseFilter.statement_key(request.query_params, ALWAYS | self.paginator.query_params())
            key = None if found is None else ("case.ids", scope_for(request.user).key, found)
            if key is not None:
                return PreparedIds(Case, key, lambda: self.filter_queryset(self.get_queryset()))
        return self.filter_queryset(self.get_queryset())

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.listed())
        services.audit_sensitive_reads(request.user, page, request)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def fetch(self, pk, scoped=True, new=False):
        """One case as `present` shows it. PostgreSQL reads the ledger, the duplicates and the topics with the case
        (arrays of JSON); elsewhere (SQLite, `make run`'s default) `present` reads them with a query each.
        `scoped=False`: the case the caller has just written, even if it has left their scope since. `new`: a case
        created by this request, which has no duplicates and no deliberation topic yet (nothing to read)."""
        scope = scope_for(self.request.user)

        def build(pk):
            together = {}
            if connection.vendor == "postgresql":
                together = dict(hop_rows=journey.HOPS)
                if not new:
                    together.update(duplicate_rows=merged.duplicates_annotation(scope),
                                    **deliberation_links.annotations(scope))
            qs = Case.objects.restrict(scope) if scoped else Case.objects.all()
            return qs.annotate(**together).filter(pk=pk)

        # Compiled and prepared once per caller and kind of read (gridcase.core.statements).
        case = workflow.read_prepared(("case.present", scoped, new), scope, build, pk)
        if new and case is not None:
            case.duplicate_rows, case.topic_rows, case.topic_action_row = [], [], None
        return case

    def retrieve(self, request, *args, **kwargs):
        case = self.fetch(kwargs["pk"])
        if case is None:
            raise NotFound()
        services.audit_sensitive_reads(request.user, [case], request)
        return Response(self.present(case))

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer, 200: CaseSerializer})
    def create(self, request, *args, **kwargs):
        """Report a case. Resending the same `client_key` answers 200 with the first case."""
        body_of(request)
        serializer = CaseCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        result = services.create_case(request.user, serializer.validated_data,
                                      ancestors=serializer.grid_ancestors)
        case = self.fetch(result.case.pk, scoped=False, new=result.created)
        return Response(self.present(case), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(responses=inline_serializer("CaseReportGrids", {
        "dedicated": ReportGridSerializer(many=True), "places": ReportGridSerializer(many=True)}))
    @action(detail=False, methods=["get"], url_path="report-grids", pagination_class=None, filterset_class=None)
    def report_grids(self, request):
        """The grids a report form offers beyond the caller's own: `dedicated`, the dedicated grids (school,
        hospital, market) they may name as `dedicated_grid` (those of the communities they work in), and
        `places`, the grids they may name as `grid` through a dedicated grid they hold (its community's general
        and micro-grids; such a report names that dedicated grid too)."""
        check_query_params(request, self)
        return Response(overlap.report_grids(scope_for(request.user)))

    @extend_schema(responses=inline_serializer("CaseQueue", {
        "key": serializers.CharField(), "count": serializers.IntegerField(),
        "filter": serializers.DictField(child=serializers.CharField())}, many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def queues(self, request):
        """The secretary's work queues (new reports, red/yellow SLA, waiting for verification, whistled
        departments not reported in), each with its count and the case-list `filter` that lists exactly those
        cases. One query."""
        check_query_params(request, self)
        counts = Case.objects.restrict(request.user).aggregate(
            **{q.key: Count("pk", filter=q.where) for q in QUEUES})
        return Response([{"key": q.key, "count": counts[q.key], "filter": q.params} for q in QUEUES])

    @extend_schema(request=inline_serializer("CasePatch", {
        "version": serializers.IntegerField(), "title": serializers.CharField(required=False),
        "description": serializers.CharField(required=False), "priority": serializers.CharField(required=False),
        "scope": serializers.CharField(required=False)}), responses=CaseSerializer)
    def partial_update(self, request, *args, **kwargs):
        body = body_of(request)
        version, if_match = version_of(request, body)
        case = services.update_case(request.user, kwargs["pk"], body, version=version, if_match=if_match,
                                    present=self.present, reload=self.reload)
        return Response(self.present(case))

    @extend_schema(responses=CaseEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=AscendingIdCursorPagination)
    def events(self, request, pk=None):
        case = self.get_case()
        services.audit_sensitive_reads(request.user, [case], request)
        qs = CaseEvent.objects.filter(case_id=case.pk).select_related("actor").order_by("id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(CaseEventSerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=inline_serializer("AttachmentList", {
        "next": serializers.CharField(allow_null=True), "previous": serializers.CharField(allow_null=True),
        "results": AttachmentSerializer(many=True)}))
    @extend_schema(methods=["POST"], request={"multipart/form-data": inline_serializer("AttachmentUpload", {
        "file": serializers.FileField(),
        "kind": serializers.ChoiceField(choices=AttachmentKind.choices, required=False, allow_blank=True,
                                        help_text="before (the default) or after"),
        "client_key": serializers.UUIDField(required=False, help_text=(
            "The phone's uuid for this upload (or the Idempotency-Key header): a repeat on the same case stores "
            "nothing and answers 200 with the photo stored the first time"))})},
        responses={201: AttachmentSerializer, 200: AttachmentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None,
            parser_classes=[parsers.MultiPartParser, parsers.FormParser, JSONParser])
    def attachments(self, request, pk=None):
        case = self.get_case()
        if request.method == "GET":
            check_query_params(request, self)
            items = case.attachments.all()
            return Response({"next": None, "previous": None,
                             "results": AttachmentSerializer(items, many=True, context={"request": request}).data})
        upload = request.FILES.get("file")
        key = request.data.get("client_key") or request.headers.get("Idempotency-Key")
        att, created = services.add_attachment(request.user, case, upload, request.data.get("kind") or "before",
                                               client_key=key)
        return Response(AttachmentSerializer(att, context={"request": request}).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: inline_serializer("CaseContact", {
        "name": serializers.CharField(), "phone": serializers.CharField()})})
    @action(detail=True, methods=["post"])
    def contact(self, request, pk=None):
        """回访: the contact phone a resident left with their report, in clear, for whoever calls residents on
        the case's grid (audited like a resident's phone). 404 when the resident left none."""
        case = self.get_case()
        return Response(intake_services.reveal_contact(request.user, case, request))

    @extend_schema(responses=CaseSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def similar(self, request, pk=None):
        """Merge candidates: open cases in the caller's scope of the same category in the same building, within
        INTAKE_DUPLICATE_METRES or (with neither) the same grid, reported in the last INTAKE_DUPLICATE_DAYS."""
        check_query_params(request, self)
        case = self.get_case()
        rows = duplicates.candidates(
            workflow.with_related(Case.objects.restrict(request.user)), category_id=case.category_id,
            grid_id=case.grid_id, building_id=case.building_id, lat=case.lat, lng=case.lng, exclude_id=case.pk)
        return Response(self.get_serializer([c for c, _near in rows], many=True).data)

    @extend_schema(parameters=[OpenApiParameter("q", str, description="name, login name or pinyin (initials)")],
                   responses=inline_serializer("AssigneeList", {
                       "next": serializers.CharField(allow_null=True),
                       "previous": serializers.CharField(allow_null=True),
                       "count": serializers.IntegerField(),
                       "results": AssigneeSerializer(many=True)}))
    @action(detail=True, methods=["get"], pagination_class=None)
    def assignees(self, request, pk=None):
        """The assign picker: exactly the people `assign` accepts for this case (the same rule), each with their
        open cases and visits due by today; the case's own grid worker first. For those who may assign."""
        check_query_params(request, self)
        case = self.get_case()
        ctx = workflow.engine.context(case, None, scope_for(request.user))
        if not state.permitted("assign", ctx.roles, ctx.relations):
            raise Forbidden()
        q = request.query_params.get("q", "")[:50]
        rows = assignees.candidates(case, q)
        return Response({"next": None, "previous": None, "count": len(rows),
                         "results": AssigneeSerializer(rows, many=True).data})

    def run_action(self, request, pk, name):
        body = body_of(request)
        version, if_match = version_of(request, body)
        body.pop("version", None)
        case = workflow.apply(pk, name, request.user, body, version=version, if_match=if_match,
                              present=self.present, reload=self.reload)
        return Response(self.present(case))

    def reload(self, pk):
        """The case after an action, read once with everything `present` shows."""
        return self.fetch(pk, scoped=False)


def _make_action(name):
    t = state.TRANSITIONS[name]

    def run(self, request, pk=None):
        return self.run_action(request, pk, name)

    run.__name__ = name
    run.__doc__ = (f"`{name}`: from {', '.join(sorted(t.sources))}. Takes `version`"
                   + (f" and {', '.join(t.requires)}" if t.requires else "") + ". Answers the updated case."
                   + (f" {t.notes}." if t.notes else ""))
    run = action(detail=True, methods=["post"], url_path=name, url_name=name.replace("_", "-"))(run)
    # After @action (which replaces the function's kwargs): otherwise the schema never sees the request body.
    return extend_schema(request=actions.REQUEST_SERIALIZERS[name], responses=CaseSerializer)(run)


for _name in state.ACTIONS:
    setattr(CaseViewSet, _name, _make_action(_name))


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """All categories in tree order (parents before children), with their depth."""

    serializer_class = CategorySerializer
    pagination_class = None

    def get_queryset(self):
        return Category.objects.filter(is_active=True)

    def list(self, request, *args, **kwargs):
        check_query_params(request, self)
        out = []
        for c, depth in categories.tree_order(self.get_queryset().order_by("sort", "id")):
            c.depth = depth
            out.append(c)
        return Response(self.get_serializer(out, many=True).data)


class ResponseTemplateViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Canned replies for `?category=` (its own, its parents' and general ones) and `?status=`."""

    serializer_class = ResponseTemplateSerializer
    pagination_class = None
    queryset = ResponseTemplate.objects.all()

    @extend_schema(parameters=[OpenApiParameter("category", int), OpenApiParameter("status", str)])
    def list(self, request, *args, **kwargs):
        check_query_params(request, self)
        qs = ResponseTemplate.objects.all()
        category = request.query_params.get("category")
        if category:
            if not category.isdigit():
                raise ValidationFailed(fields={"category": [_("Invalid value.")]})
            qs = qs.filter(category_id__in=categories.ancestors(int(category))) | qs.filter(category__isnull=True)
        wanted = request.query_params.get("status")
        if wanted:
            qs = qs.filter(status__in=[wanted, ""])
        return Response(self.get_serializer(qs.order_by("sort", "id"), many=True).data)

