"""`GET /api/v1/audit-log/`: who revealed which resident's phone or ID number, read which sensitive case, moved a
resident out, imported a 台账 — when and from where. Newest first, cursor-paged; `export/` writes the same
selection as CSV or XLSX (through gridcase.core.spreadsheet, so no cell runs as a formula).

Read by secretaries (their community), the street's dispatchers (the street) and administrators: an entry is
visible where the reader holds such a role over the grid of the object it names (`gridcase.grids.auditlog`).
"""

from datetime import datetime, time, timedelta

import django_filters
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from gridcase.core import dates, spreadsheet
from gridcase.core.errors import ValidationFailed
from gridcase.core.models import AuditLog
from gridcase.grids import auditlog
from gridcase.grids.accounts import display_name
from gridcase.grids.roles import AUDIT_READERS
from gridcase.grids.scoping import scope_for

from ..files import JSONErrors
from ..filters import WithinFilter
from ..pagination import IdCursorPagination

EXPORT_MAX_ROWS = 10_000

ACTION_LABELS = {
    "reveal": gettext_lazy("revealed personal data"),
    "export_reveal": gettext_lazy("exported personal data"),
    "read_sensitive": gettext_lazy("read a sensitive case"),
    "resident_status": gettext_lazy("changed a resident's status"),
    "import": gettext_lazy("imported a register"),
    "import_review_merge": gettext_lazy("merged a held import row"),
    "import_review_dismiss": gettext_lazy("dismissed a held import row"),
}


class AuditReaders(IsAuthenticated):
    """Secretaries, street dispatchers and administrators; everyone else 403."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and scope_for(request.user).has_role(*AUDIT_READERS)


def _day_start(d):
    return timezone.make_aware(datetime.combine(d, time.min))


class AuditLogFilter(django_filters.FilterSet):
    actor = django_filters.NumberFilter(field_name="actor_id", label="the user who acted (id)")
    action = django_filters.CharFilter(method="filter_action",
                                       label="reveal, read_sensitive, resident_status, import …; comma-separated")
    resident = django_filters.NumberFilter(method="filter_resident", label="entries about this resident (id)")
    case = django_filters.NumberFilter(method="filter_case", label="entries about this case (id)")
    after = django_filters.DateFilter(method="filter_after", label="on or after this day")
    before = django_filters.DateFilter(method="filter_before", label="on or before this day")
    within = WithinFilter(prefix="grid__")

    class Meta:
        model = AuditLog
        fields = ["actor", "action", "resident", "case", "after", "before", "within"]

    def filter_action(self, qs, name, value):
        values = [v.strip() for v in value.split(",") if v.strip()]
        return qs.filter(action__in=values) if values else qs

    def filter_resident(self, qs, name, value):
        return qs.filter(object_type=auditlog.RESIDENT, object_id=str(int(value)))

    def filter_case(self, qs, name, value):
        return qs.filter(object_type=auditlog.CASE, object_id=str(int(value)))

    def filter_after(self, qs, name, value):
        return qs.filter(at__gte=_day_start(value))

    def filter_before(self, qs, name, value):
        return qs.filter(at__lt=_day_start(value + timedelta(days=1)))


class AuditLogSerializer(serializers.ModelSerializer):
    actor_username = serializers.CharField(source="actor.username", read_only=True, default="")
    actor_name = serializers.SerializerMethodField()
    action_label = serializers.SerializerMethodField()
    grid_name = serializers.CharField(source="grid.name", read_only=True, default="")
    subject = serializers.SerializerMethodField(help_text="the resident's name or the case's number")

    class Meta:
        model = AuditLog
        fields = ["id", "at", "actor", "actor_username", "actor_name", "action", "action_label", "object_type",
                  "object_id", "subject", "grid", "grid_name", "fields", "ip", "extra"]

    def get_actor_name(self, entry) -> str:
        return display_name(entry.actor)

    def get_action_label(self, entry) -> str:
        return str(ACTION_LABELS.get(entry.action, entry.action))

    def get_subject(self, entry) -> str:
        return self.context.get("subjects", {}).get((entry.object_type, entry.object_id), "")


FILTER_PARAMS = [
    OpenApiParameter("actor", int), OpenApiParameter("action", str), OpenApiParameter("resident", int),
    OpenApiParameter("case", int), OpenApiParameter("after", OpenApiTypes.DATE),
    OpenApiParameter("before", OpenApiTypes.DATE), OpenApiParameter("within", int),
]


class AuditLogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilter
    pagination_class = IdCursorPagination
    permission_classes = [AuditReaders]

    def get_queryset(self):
        return AuditLog.objects.restrict(self.request.user).select_related("actor", "grid")

    def get_serializer(self, *args, **kwargs):
        if args and isinstance(args[0], list):
            kwargs.setdefault("context", self.get_serializer_context())["subjects"] = auditlog.subjects(args[0])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(parameters=[*FILTER_PARAMS, OpenApiParameter("type", str, enum=["csv", "xlsx"],
                                                                description="csv (default) or xlsx")],
                   responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, spreadsheet.XLSX_TYPE): OpenApiTypes.BINARY})
    @action(detail=False, methods=["get"], content_negotiation_class=JSONErrors, pagination_class=None)
    def export(self, request):
        """The filtered entries as a spreadsheet, newest first, at most 10,000 rows."""
        kind = request.query_params.get("type", "csv")
        if kind not in ("csv", "xlsx"):
            raise ValidationFailed(fields={"type": [_("Choose csv or xlsx.")]})
        filterset = self.filterset_class(request.query_params, self.filter_queryset(self.get_queryset()),
                                         request=request)
        if not filterset.is_valid():
            raise ValidationFailed(fields={k: [str(m) for m in v] for k, v in filterset.errors.items()})
        for name in ("after", "before"):
            dates.check(filterset.form.cleaned_data.get(name), name)
        entries = list(filterset.qs.order_by("-id")[:EXPORT_MAX_ROWS])
        subjects = auditlog.subjects(entries)
        header = [_("Time"), _("User"), _("Name"), _("Action"), _("Object"), _("Object id"), _("Subject"), _("Grid"),
                  _("Fields"), _("Address")]
        rows = [[timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.actor.username if e.actor else "",
                 display_name(e.actor),
                 str(ACTION_LABELS.get(e.action, e.action)), e.object_type, e.object_id,
                 subjects.get((e.object_type, e.object_id), ""), e.grid.name if e.grid else "",
                 ", ".join(str(f) for f in e.fields or []), e.ip or ""] for e in entries]
        if kind == "xlsx":
            response = HttpResponse(spreadsheet.xlsx_bytes(header, rows, title="audit"),
                                    content_type=spreadsheet.XLSX_TYPE)
        else:
            response = HttpResponse(spreadsheet.csv_bytes(header, rows), content_type=spreadsheet.CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="audit-log.{kind}"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

