import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.notices.models import Kind, Notice, State

from ..filters import WithinFilter


class NoticeFilter(django_filters.FilterSet):
    within = WithinFilter(prefix="grid__")
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("only notices sent to me"))
    current = django_filters.BooleanFilter(method="filter_current", label=_("published and not expired"))

    class Meta:
        model = Notice
        fields = ["within", "state", "kind", "mine", "current"]

    def filter_mine(self, qs, name, value):
        return qs.filter(is_mine=value)

    def filter_current(self, qs, name, value):
        now = timezone.now()
        cond = Q(state=State.PUBLISHED) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        return qs.filter(cond) if value else qs.exclude(cond)
