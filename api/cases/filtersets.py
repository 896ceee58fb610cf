import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from gridcase.cases import categories
from gridcase.cases.choices import Priority, Rating, SlaState, Source, Status
from gridcase.cases.models import Case, CaseDepartment
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid
from gridcase.grids.scoping import scope_for
from gridcase.stats import kpis, params, queries

from ..filters import WithinFilter

# A case with a whistled (吹哨) department that has not reported in (报到) yet.
AWAITING_REPORT_IN = Exists(CaseDepartment.objects.filter(case_id=OuterRef("pk"), reported_in_at__isnull=True))


class CsvChoiceFilter(django_filters.CharFilter):
    """`?status=reported,accepted` (comma-separated or repeated)."""

    def __init__(self, *args, choices=(), **kwargs):
        self.allowed = {c[0] for c in choices}
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        values = [v.strip() for v in value.split(",") if v.strip()]
        bad = [v for v in values if v not in self.allowed]
        if bad:
            raise ValidationError({self.field_name: [_("Unknown value: %(v)s") % {"v": ", ".join(bad)}]})
        return qs.filter(**{f"{self.field_name}__in": values})


class CounterFilter(django_filters.BooleanFilter):
    """`?<counter>=true|false`: the cases that meet (or do not meet) a counter declared in gridcase.stats.kpis."""

    def __init__(self, counter: kpis.Counter, **kwargs):
        self.counter = counter
        super().__init__(label=counter.doc, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(self.counter.where) if value else qs.exclude(self.counter.where)


# The dashboards' figures drill down to the case list: every counter of gridcase.stats.kpis that has no
# drill-down parameters of its own is a boolean filter, built from its declaration (the other counters drill
# down through status, rating and owner_level).
CounterFilters = type("CounterFilters", (django_filters.FilterSet,),
                      {c.name: CounterFilter(c) for c in kpis.COUNTERS if c.is_list_filter})


class CaseWithinFilter(WithinFilter):
    """`?within=<grid>`: cases whose grid, owner grid or dedicated grid lies in the subtree; with `in_figures=true` (a
    dashboard figure's drill-down) the subtree's cases as the figures count them (where they happened,
    `stats.queries.area_q`), so the list's count is the figure's and it reads the subtree's own cases of the
    period (the (grid, created_at) index) instead of every case of the period."""

    def filter(self, qs, value):
        if value in (None, "") or not self.parent.form.cleaned_data.get("in_figures"):
            return super().filter(qs, value)
        grid = Grid.objects.filter(pk=value).first()
        if grid is None:
            return qs.none()
        return qs.narrow(Case.scope_within_q(qs.restriction(), tree.span(grid), area=queries.area_q([grid])))


class CaseFilter(CounterFilters):
    status = CsvChoiceFilter(field_name="status", choices=Status.choices)
    priority = CsvChoiceFilter(field_name="priority", choices=Priority.choices)
    source = CsvChoiceFilter(field_name="source", choices=Source.choices)
    sla_state = CsvChoiceFilter(field_name="sla_state", choices=SlaState.choices)
    category = django_filters.NumberFilter(method="filter_category", label=_("category (with its subcategories)"))
    within = CaseWithinFilter()
    grid = django_filters.NumberFilter(field_name="grid_id")
    owner_grid = django_filters.NumberFilter(field_name="owner_grid_id")
    dedicated_grid = django_filters.NumberFilter(field_name="dedicated_grid_id",
                                                 label=_("dedicated grid (school, hospital, market …)"))
    assignee = django_filters.CharFilter(method="filter_assignee", label=_("assignee id, or `me`"))
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    # A dashboard figure read from the rollups carries the moment they were computed (`as_of`); its drill-down
    # leaves out the cases reported since, so the list and the figure agree until the next refresh.
    as_of = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt",
                                             label=_("only cases reported before this moment (a figure's `as_of`)"))
    in_figures = django_filters.BooleanFilter(
        method="filter_in_figures", label=_("true: only the cases the dashboard figures count for you (a drill-down)"))
    department = django_filters.NumberFilter(field_name="case_departments__department_id")
    awaiting_report_in = django_filters.BooleanFilter(
        method="filter_awaiting_report_in", label=_("a whistled department has not reported in yet"))
    resident = django_filters.NumberFilter(field_name="resident_id", label=_("the resident the case is about"))
    household = django_filters.NumberFilter(field_name="household_id", label=_("the household the case is about"))
    q = django_filters.CharFilter(method="search")
    rating = CsvChoiceFilter(field_name="rating", choices=Rating.choices)
    owner_level = CsvChoiceFilter(field_name="owner_grid__level", choices=Level.choices)

    class Meta:
        model = Case
        fields = []

    # The list's page of ids comes from a statement compiled once per caller and filter values (api.pagination
    # .PreparedIds). Each parameter named here enters that key as its value, or as what the value resolves to when
    # the request comes (a subtree's span: the tree is renumbered when grids are added; a category's descendants).
    # Any other parameter — a text search, the dates, `overdue` (it reads the clock) — lists through the ORM.
    KEYED_AS_RESOLVED = {
        "within": lambda raw: tree.span_of(Grid, int(raw)),
        "category": lambda raw: tuple(categories.descendants(int(raw))),
    }
    KEYED_AS_GIVEN = frozenset({
        "status", "priority", "source", "sla_state", "grid", "owner_grid", "dedicated_grid", "assignee", "in_figures",
        "department", "awaiting_report_in", "resident", "household", "rating", "owner_level",
        *(c.name for c in kpis.COUNTERS if c.is_list_filter)})

    @classmethod
    def statement_key(cls, query, ignore=frozenset()) -> tuple | None:
        """The filter part of the list statement's key, from the raw query parameters (`ignore`: the paginator's);
        None when a parameter is not keyed or does not resolve (the ORM lists it, and answers any error)."""
        key = []
        for name in sorted(set(query) - ignore):
            values = query.getlist(name)
            if name in cls.KEYED_AS_RESOLVED:
                if len(values) != 1 or not (values[0].isascii() and values[0].isdigit()) or len(values[0]) > 12:
                    return None
                resolved = cls.KEYED_AS_RESOLVED[name](values[0])
                if resolved is None:
                    return None
                key.append((name, values[0], resolved))
            elif name in cls.KEYED_AS_GIVEN:
                key.append((name, tuple(values)))
            else:
                return None
        return tuple(key)

    def filter_in_figures(self, qs, name, value):
        holds = params.sensitive_holds(scope_for(self.request.user))
        return qs.filter(queries.sensitive_q(holds)) if value and holds is not None else qs

    def filter_category(self, qs, name, value):
        return qs.filter(category_id__in=categories.descendants(int(value)))

    def filter_assignee(self, qs, name, value):
        if value == "me":
            return qs.filter(assignee_id=self.request.user.pk)
        if value == "none":
            return qs.filter(assignee__isnull=True)
        if not value.isdigit():
            raise ValidationError({"assignee": [_("Use a user id, `me` or `none`.")]})
        return qs.filter(assignee_id=int(value))

    def filter_overdue(self, qs, name, value):
        """Past the current stage's deadline, whether or not the sweep has marked it yet."""
        late = ~Q(sla_stage="") & Q(sla_red_at__lte=timezone.now())
        return qs.filter(late) if value else qs.exclude(late)

    def filter_awaiting_report_in(self, qs, name, value):
        return qs.filter(AWAITING_REPORT_IN) if value else qs.exclude(AWAITING_REPORT_IN)

    def search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(number__iexact=value) | Q(number__icontains=value) | Q(title__icontains=value)
                         | Q(description__icontains=value))
