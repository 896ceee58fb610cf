from datetime import datetime, time

import django_filters
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from gridcase.core import dates
from gridcase.grids.models import Resident
from gridcase.visits.choices import ContactKind, Wellbeing
from gridcase.visits.models import CarePlan, Visit
from gridcase.visits.services import responsible_q

from ..filters import WithinFilter


def parse_moment(value: str, end: bool = False, name: str = "date"):
    """A date (whole local day) or a date-time; a clear 400 otherwise."""
    value = (value or "").strip()
    try:
        moment = parse_datetime(value) if len(value) > 10 else None
        day = parse_date(value) if moment is None else None
    except ValueError:
        moment = day = None
    if moment is None:
        if day is None:
            raise ValidationError({name: [_("Enter a date (YYYY-MM-DD) or a date-time.")]})
        moment = datetime.combine(day, time.max if end else time.min)
    dates.check(moment, name)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class TagFilterMixin:
    """`tag=code[,code]`: rows whose resident (the id in `resident_field`) holds any of the tags."""

    def filter_tag(self, qs, name, value):
        return qs.filter(Resident.tagged_q([c for c in value.split(",") if c], self.resident_field))


class VisitFilter(django_filters.FilterSet):
    worker = django_filters.NumberFilter(field_name="visitor_id", label=_("visitor"))
    resident = django_filters.NumberFilter(field_name="resident_id")
    household = django_filters.NumberFilter(field_name="household_id")
    within = WithinFilter(prefix="grid__")
    kind = django_filters.MultipleChoiceFilter(choices=ContactKind.choices)
    wellbeing = django_filters.MultipleChoiceFilter(choices=Wellbeing.choices)
    visited_after = django_filters.CharFilter(method="filter_after", label=_("visited at or after (date or date-time)"))
    visited_before = django_filters.CharFilter(method="filter_before", label=_("visited at or before (date or date-time)"))
    has_case = django_filters.BooleanFilter(field_name="case_id", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Visit
        fields = ["worker", "resident", "household", "within", "kind", "wellbeing", "visited_after",
                  "visited_before", "has_case"]

    def filter_after(self, qs, name, value):
        return qs.filter(visited_at__gte=parse_moment(value, name="visited_after"))

    def filter_before(self, qs, name, value):
        return qs.filter(visited_at__lte=parse_moment(value, end=True, name="visited_before"))


class CarePlanFilter(TagFilterMixin, django_filters.FilterSet):
    resident_field = "resident_id"
    resident = django_filters.NumberFilter(field_name="resident_id")
    within = WithinFilter(prefix="")  # CarePlan.scope_within_q: the plan's own grid, community or street
    worker = django_filters.NumberFilter(method="filter_worker", label=_("responsible worker"))
    tag = django_filters.CharFilter(method="filter_tag")
    escalated = django_filters.BooleanFilter()
    active = django_filters.BooleanFilter()
    coverage = django_filters.ChoiceFilter(
        choices=[("on_time", _("visited on time")), ("late", _("not visited on time"))], method="filter_coverage",
        label=_("drill-down of visit coverage over coverage_from..coverage_to (default: the last 30 days)"))
    coverage_from = django_filters.DateFilter(method="keep")
    coverage_to = django_filters.DateFilter(method="keep")

    class Meta:
        model = CarePlan
        fields = ["resident", "within", "worker", "tag", "escalated", "active", "coverage", "coverage_from",
                  "coverage_to"]

    def keep(self, qs, name, value):
        return qs  # read by filter_coverage

    def filter_coverage(self, qs, name, value):
        from django.db.models.expressions import RawSQL

        from gridcase.grids.models import Grid
        from gridcase.grids.scoping import scope_for
        from gridcase.stats.params import make_period
        from gridcase.visits import coverage

        data = self.form.cleaned_data
        period = make_period(data.get("coverage_from"), data.get("coverage_to"), names=("coverage_from", "coverage_to"))
        grid = None
        if data.get("within"):
            grid = Grid.objects.filter(pk=data["within"]).first()
            if grid is None:
                return qs.none()
        sql, params = coverage.residents_sql(scope_for(self.request.user), grid, period, value == "on_time")
        return qs.filter(resident_id__in=RawSQL(sql, params))

    def filter_worker(self, qs, name, value):
        return qs.filter(responsible_q(int(value)))
