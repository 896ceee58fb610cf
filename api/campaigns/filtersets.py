import django_filters

from gridcase.campaigns.models import Campaign, CampaignStatus, CampaignTask, TaskStatus

from ..filters import WithinFilter


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CampaignStatus.choices)
    within = WithinFilter()

    class Meta:
        model = Campaign
        fields = ["status", "within"]


class TaskFilter(django_filters.FilterSet):
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices)
    within = WithinFilter()
    mine = django_filters.BooleanFilter(method="filter_mine", label="only my tasks")

    class Meta:
        model = CampaignTask
        fields = ["campaign", "status", "within", "mine"]

    def filter_mine(self, qs, name, value):
        user = self.request.user
        return qs.filter(worker=user) if value else qs.exclude(worker=user)
