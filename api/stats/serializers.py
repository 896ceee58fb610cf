"""Shapes of the statistics answers (for the OpenAPI schema; the views build plain dicts)."""

from rest_framework import serializers

from gridcase.stats import kpis

from ..errors import ErrorSerializer  # noqa: F401 - the one error shape (re-exported for the views)


class GridBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


# A field per rate and the median declared in gridcase.stats.kpis (their definitions as help texts).
RatesMixin = type("RatesMixin", (serializers.Serializer,), {
    **{r.name: serializers.FloatField(allow_null=True, help_text=r.doc) for r in kpis.RATES},
    kpis.MEDIAN.name: serializers.FloatField(allow_null=True, help_text=kpis.MEDIAN.doc),
})


AS_OF = "when the rollups behind the figures were computed (null before the first run); every drill-down URL "\
        "carries it as `as_of`, so its list counts the same cases until the next refresh"


class PreviousSerializer(RatesMixin):
    from_ = serializers.DateField()
    to = serializers.DateField()
    total = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class SummarySerializer(RatesMixin):
    grid = GridBriefSerializer(allow_null=True)
    from_ = serializers.DateField()
    to = serializers.DateField()
    as_of = serializers.DateTimeField(allow_null=True, help_text=AS_OF)
    previous = PreviousSerializer(help_text="the same figures over the period of the same length just before")
    parts = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()),
                                  help_text="rate → {numerator, denominator}: the counts of its two drill-down lists")
    total = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    by_status = serializers.DictField(child=serializers.IntegerField())
    drilldown = serializers.DictField(child=serializers.CharField(),
                                      help_text="metric → URL of the case list that produced it")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class PointSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="start of the day, week (Monday) or month")
    from_ = serializers.DateField()
    to = serializers.DateField()
    value = serializers.FloatField(allow_null=True)
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True)
    drilldown = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class TimeseriesSerializer(serializers.Serializer):
    grid = GridBriefSerializer(allow_null=True)
    metric = serializers.CharField()
    interval = serializers.CharField()
    from_ = serializers.DateField()
    to = serializers.DateField()
    as_of = serializers.DateTimeField(allow_null=True, help_text=AS_OF)
    points = PointSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class RankingItemSerializer(RatesMixin):
    grid = serializers.IntegerField()
    grid_name = serializers.CharField()
    grid_code = serializers.CharField()
    level = serializers.CharField()
    total = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True, help_text="the ranked metric")
    volume = serializers.IntegerField(help_text="cases the metric is taken over (a rate's denominator)")
    ranked = serializers.BooleanField(help_text="the volume reaches `min_volume` (and the metric has a value)")
    rank = serializers.IntegerField(allow_null=True)
    drilldown = serializers.CharField(help_text="the cases behind the value (a rate's numerator)")
    volume_drilldown = serializers.CharField(help_text="the cases of the volume")


class RankingSerializer(serializers.Serializer):
    grid = GridBriefSerializer(allow_null=True)
    metric = serializers.CharField()
    from_ = serializers.DateField()
    to = serializers.DateField()
    as_of = serializers.DateTimeField(allow_null=True, help_text=AS_OF)
    min_volume = serializers.IntegerField()
    results = RankingItemSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class DepartmentItemSerializer(serializers.Serializer):
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    whistled = serializers.IntegerField()
    reported_in = serializers.IntegerField()
    reported_in_on_time = serializers.IntegerField()
    report_in_rate = serializers.FloatField(allow_null=True, help_text="reported in by the deadline / whistled")
    median_report_in_hours = serializers.FloatField(allow_null=True)
    replied = serializers.IntegerField()
    median_handling_hours = serializers.FloatField(allow_null=True, help_text="whistle to reply")
    scored = serializers.IntegerField()
    average_score = serializers.FloatField(allow_null=True, help_text="应哨评价, 1–5")
    drilldown = serializers.CharField()


class DepartmentsSerializer(serializers.Serializer):
    grid = GridBriefSerializer(allow_null=True)
    from_ = serializers.DateField()
    to = serializers.DateField()
    as_of = serializers.DateTimeField(allow_null=True, help_text=AS_OF)
    results = DepartmentItemSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


# Visit coverage (gridcase.visits.coverage): on-time visits of key-population residents.
class CoverageFiguresSerializer(serializers.Serializer):
    residents = serializers.IntegerField()
    on_time = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    drilldown = serializers.CharField(help_text="the care plans of the residents visited on time (`on_time`)")
    late_drilldown = serializers.CharField(help_text="the care plans of the others (`residents` − `on_time`)")


class CoverageByTagSerializer(CoverageFiguresSerializer):
    tag = serializers.CharField()
    tag_name = serializers.CharField()


class CoverageByGridSerializer(CoverageFiguresSerializer):
    grid = serializers.IntegerField()
    grid_name = serializers.CharField()
    level = serializers.CharField()


class VisitCoverageSerializer(serializers.Serializer):
    grid = serializers.IntegerField(allow_null=True)
    overall = CoverageFiguresSerializer()
    by_tag = CoverageByTagSerializer(many=True)
    by_grid = CoverageByGridSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields


class HoldTimeSerializer(serializers.Serializer):
    level = serializers.CharField(help_text="a grid level (micro_grid … street) or `department`")
    hops = serializers.IntegerField(help_text="holds that ended in the period (the median is over these)")
    waiting = serializers.IntegerField(help_text="holds still open at the end of the period")
    median_hours = serializers.FloatField(allow_null=True)


class HoldTimesSerializer(serializers.Serializer):
    grid = GridBriefSerializer(allow_null=True)
    from_ = serializers.DateField()
    to = serializers.DateField()
    results = HoldTimeSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields
