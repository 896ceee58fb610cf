import django_filters

from gridcase.deliberation.models import (
    Consultation,
    MeetingStatus,
    Topic,
    TopicLevel,
    TopicOrigin,
    TopicStatus,
)

from ..filters import WithinFilter


class TopicFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TopicStatus.choices)
    origin = django_filters.ChoiceFilter(choices=TopicOrigin.choices)
    level = django_filters.ChoiceFilter(choices=TopicLevel.choices)
    case = django_filters.NumberFilter(field_name="case_id")
    within = WithinFilter()

    class Meta:
        model = Topic
        fields = ["status", "origin", "level", "case"]


class MeetingFilter(django_filters.FilterSet):
    topic = django_filters.NumberFilter(field_name="topic_id")
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices)
    within = WithinFilter(prefix="topic__grid__")

    class Meta:
        model = Consultation
        fields = ["topic", "status"]
