import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from gridcase.grids import tree
from gridcase.grids.choices import Level, ResidentStatus, Role
from gridcase.grids.models import Building, Department, Grid, Household, Membership, Resident, Unit

from ..filters import WithinFilter


class GridFilter(django_filters.FilterSet):
    level = django_filters.MultipleChoiceFilter(choices=Level.choices)
    parent = django_filters.NumberFilter(field_name="parent_id")
    within = WithinFilter(prefix="")
    q = django_filters.CharFilter(method="search")

    class Meta:
        model = Grid
        fields = ["level", "parent", "within", "q"]

    def search(self, qs, name, value):
        return qs.filter(Q(name__icontains=value) | Q(code__icontains=value))


class BuildingFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="grid__")
    grid = django_filters.NumberFilter(field_name="grid_id")
    q = django_filters.CharFilter(method="search")

    class Meta:
        model = Building
        fields = ["within", "grid", "q"]

    def search(self, qs, name, value):
        return qs.filter(Q(name__icontains=value) | Q(code__icontains=value) | Q(address__icontains=value))


class UnitFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="micro_grid__")
    building = django_filters.NumberFilter(field_name="building_id")
    micro_grid = django_filters.NumberFilter(field_name="micro_grid_id")

    class Meta:
        model = Unit
        fields = ["within", "building", "micro_grid"]


class HouseholdFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="grid__")
    unit = django_filters.NumberFilter(field_name="unit_id")
    building = django_filters.NumberFilter(field_name="unit__building_id")
    q = django_filters.CharFilter(method="search", label="room, building name, or the name (pinyin initials, "
                                  "phone's last four digits) of a resident living there")

    class Meta:
        model = Household
        fields = ["within", "unit", "building", "q"]

    def search(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        living = ResidentFilter.search(None, Resident.objects.all(), name, value).values("household_id")
        return qs.filter(Q(room__icontains=value) | Q(unit__building__name__icontains=value) | Q(pk__in=living))


class ResidentFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="grid__")
    tag = django_filters.CharFilter(method="filter_tag")
    household = django_filters.NumberFilter(field_name="household_id")
    q = django_filters.CharFilter(method="search", label="name, pinyin (full or initials, e.g. zs for 张三) or the "
                                  "phone's last four digits")
    is_active = django_filters.BooleanFilter()
    status = django_filters.MultipleChoiceFilter(choices=ResidentStatus.choices,
                                                 label="active (living here), moved_out or deceased; repeatable")

    class Meta:
        model = Resident
        fields = ["within", "tag", "household", "q", "is_active", "status"]

    def filter_tag(self, qs, name, value):
        return qs.filter(Resident.tagged_q([c for c in value.split(",") if c]))

    def search(self, qs, name, value):
        """Name, pinyin (full or initials, e.g. `zs` for 张三) or the phone's last four digits."""
        value = value.strip()
        if not value:
            return qs
        q = Q(name__contains=value)
        if value.isascii() and value.isalpha():
            lowered = value.lower()
            q |= Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)
        if value.isdigit() and len(value) == 4:
            q |= Q(phone_last4=value)
        return qs.filter(q)


class DepartmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search")
    kind = django_filters.CharFilter()

    class Meta:
        model = Department
        fields = ["q", "kind"]

    def search(self, qs, name, value):
        return qs.filter(Q(name__icontains=value) | Q(code__icontains=value))


class MembershipFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="grid__")
    grid = django_filters.NumberFilter(field_name="grid_id")
    user = django_filters.NumberFilter(field_name="user_id")
    role = django_filters.MultipleChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["within", "grid", "user", "role"]


class UserFilter(django_filters.FilterSet):
    """`within`: people holding a membership in the grid's subtree (the console's people pickers)."""

    within = django_filters.NumberFilter(method="filter_within", label="within grid (subtree)")

    class Meta:
        model = get_user_model()
        fields = ["within"]

    def filter_within(self, qs, name, value):
        span = tree.span_of(Grid, value)
        if span is None:
            return qs.none()
        holders = Membership.objects.filter(tree.subtree_q([span], "grid__")).values("user_id")
        return qs.filter(pk__in=holders)
