"""`GET /api/v1/visits/round/`: the worker's round, one stop per resident (gridcase.visits.round).

An action of the visits viewset (RoundMixin), so it needs no route of its own.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.grids.accounts import display_name
from gridcase.visits import round as rounds
from gridcase.visits.choices import ContactKind, Wellbeing

from ..filters import check_query_params
from ..grids.serializers import household_label


def age_on(birth_date, day) -> int | None:
    if not birth_date:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


class RoundDueSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    every_n_days = serializers.IntegerField()
    due_on = serializers.DateField()
    overdue_days = serializers.IntegerField()
    last_contact_on = serializers.DateField(allow_null=True)


class RoundVisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    visited_at = serializers.DateTimeField()
    wellbeing = serializers.ChoiceField(choices=Wellbeing.choices)
    findings = serializers.CharField()
    needs = serializers.ListField(child=serializers.CharField())
    visitor_name = serializers.CharField()


class RoundMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.CharField()
    age = serializers.IntegerField(allow_null=True)


class RoundCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    sla_state = serializers.CharField()
    created_at = serializers.DateTimeField()


class RoundTagSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class RoundStopSerializer(serializers.Serializer):
    """One resident on the round with every kind due, and what the worker needs there without signal."""

    resident = serializers.IntegerField()
    resident_name = serializers.CharField()
    gender = serializers.CharField()
    age = serializers.IntegerField(allow_null=True)
    household = serializers.IntegerField(allow_null=True)
    household_label = serializers.CharField()
    room = serializers.CharField()
    building = serializers.IntegerField(allow_null=True)
    building_name = serializers.CharField()
    unit = serializers.IntegerField(allow_null=True)
    unit_name = serializers.CharField()
    grid_name = serializers.CharField()
    tags = RoundTagSerializer(many=True)
    phone = serializers.CharField(help_text="in clear when `phone_revealed` (roles that may call; audited), else masked")
    phone_revealed = serializers.BooleanField()
    state = serializers.ChoiceField(choices=[rounds.OVERDUE, rounds.TODAY, rounds.DONE])
    overdue_days = serializers.IntegerField()
    visited_today = serializers.BooleanField(help_text="contacted today (any kind, anyone)")
    due = RoundDueSerializer(many=True)
    care_plan = serializers.IntegerField()
    escalated = serializers.BooleanField()
    wellbeing = serializers.CharField()
    plan_note = serializers.CharField()
    last_visits = RoundVisitSerializer(many=True)
    household_members = RoundMemberSerializer(many=True)
    open_cases = RoundCaseSerializer(many=True)

    def to_representation(self, stop):
        plan = stop.plan
        resident = plan.resident
        household = resident.household
        unit = household.unit if household else None
        building = unit.building if unit else None
        day = self.context["day"]
        return {
            "resident": resident.pk,
            "resident_name": resident.name,
            "gender": resident.gender,
            "age": age_on(resident.birth_date, day),
            "household": household.pk if household else None,
            "household_label": household_label(household) if household else "",
            "room": household.room if household else "",
            "building": building.pk if building else None,
            "building_name": building.name if building else "",
            "unit": unit.pk if unit else None,
            "unit_name": unit.name if unit else "",
            "grid_name": resident.grid.name,
            "tags": [{"code": t.code, "name": t.name} for t in resident.tags.all()],
            "phone": stop.phone,
            "phone_revealed": stop.phone_revealed,
            "state": stop.state,
            "overdue_days": stop.overdue_days,
            "visited_today": stop.visited_today,
            "due": [{"kind": i.kind, "every_n_days": i.every_n_days, "due_on": i.due_on.isoformat(),
                     "overdue_days": max(0, (day - i.due_on).days),
                     "last_contact_on": i.last_contact_on.isoformat() if i.last_contact_on else None}
                    for i in stop.due],
            "care_plan": plan.pk,
            "escalated": plan.escalated,
            "wellbeing": plan.wellbeing or "",
            "plan_note": plan.note or "",
            "last_visits": [{"id": v.pk, "kind": v.kind, "visited_at": v.visited_at.isoformat(),
                             "wellbeing": v.wellbeing, "findings": v.findings, "needs": v.needs,
                             "visitor_name": display_name(v.visitor) if v.visitor_id else ""}
                            for v in stop.last_visits],
            "household_members": [{"id": m.pk, "name": m.name, "relation": m.relation, "age": age_on(m.birth_date, day)}
                                  for m in stop.household_members],
            "open_cases": [{"id": c.pk, "number": c.number, "title": c.title, "status": c.status,
                            "sla_state": c.sla_state, "created_at": c.created_at.isoformat()}
                           for c in stop.open_cases],
        }


class RoundSerializer(serializers.Serializer):
    date = serializers.DateField()
    total = serializers.IntegerField(help_text="residents on the round (still due + done today)")
    done = serializers.IntegerField(help_text="residents contacted today with nothing left due")
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = RoundStopSerializer(many=True)


class RoundMixin:
    """Adds `round` to the visits viewset."""

    @extend_schema(parameters=[
        OpenApiParameter("date", str, description="day of the round (YYYY-MM-DD), default today in Asia/Shanghai"),
    ], responses=RoundSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None, url_path="round")
    def round(self, request):
        """The caller's round, one stop per resident: overdue first, then due today, then walking order;
        residents contacted today with nothing left due come last as done (progress = done / total)."""
        from .views import parse_day

        check_query_params(request, self, ("date",))
        day = parse_day(request.query_params.get("date"))
        stops = rounds.round_for(request.user, day, request)
        results = RoundStopSerializer(stops, many=True, context={"day": day}).data
        return Response({"date": day.isoformat(), "total": len(stops),
                         "done": sum(1 for s in stops if s.state == rounds.DONE),
                         "next": None, "previous": None, "results": results})
