"""A case reads the same through the serializer's own loop (fields built once per class) as through DRF's generic
one: every field of `CaseSerializer.Meta.fields`, in order, with the same values, in every state a case can be in.
A field added to the serializer is covered here without naming it."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from api.cases.serializers import CaseSerializer
from api.cases.views import CaseViewSet
from gridcase.cases.models import Case, Category
from gridcase.deliberation import services as deliberation
from gridcase.intake import services as intake_services

User = get_user_model()


def _view(user):
    request = Request(RequestFactory().get("/api/v1/cases/"))
    request.user = User.objects.get(pk=user.pk)  # a fresh user: the scope is cached on it
    return CaseViewSet(request=request, kwargs={}, format_kwarg=None, action="retrieve")


def _generic(serializer_class, case, context):
    """What DRF's own `Serializer.to_representation` answers: every field built for this serializer."""
    return serializers.ModelSerializer.to_representation(serializer_class(case, context=context), case)


def _same(fast, generic):
    assert list(fast) == list(generic)  # the same keys in the same order
    for name in generic:
        assert fast[name] == generic[name], name
    assert JSONRenderer().render(fast) == JSONRenderer().render(generic)


@pytest.fixture
def cases(city, make_case, drive, act):
    """Cases in the states a client meets, each showing a different part of the output."""
    sensitive_cat = Category.objects.get(code="care_domestic_violence")
    reported = make_case(title="新报", location={"lat": 31.2304, "lng": 121.4737})
    nowhere = make_case(title="没有位置")
    whistled = drive(make_case(title="吹哨"), "accept")
    act(city.secretary, whistled, "whistle", departments=[city.department.pk], note="请派人查看管网")
    act(city.officer, whistled, "report_in")
    act(city.officer, whistled, "reply", note="已派维修班组")
    act(city.secretary, whistled, "score_department", department=city.department.pk, score=4, comment="响应及时")
    extended = drive(make_case(title="延期"), "accept", "assign", "start")
    act(city.worker, extended, "request_extension", hours=4, reason="等材料")
    escalated = drive(make_case(title="上报"), "accept")
    act(city.grid_worker, escalated, "escalate", reason="需要社区协调")
    closed = drive(make_case(title="办结"), "accept", "assign", "start", "resolve", "verify", "close")
    act(city.secretary, closed, "callback", rating="satisfied", called_at=timezone.now().isoformat(),
        comment="居民说已经好了")
    first, dup = make_case(title="同一处"), make_case(title="同一处下水道")
    act(city.secretary, dup, "merge", into=first.pk)
    sensitive = make_case(reporter=city.secretary, cat=sensitive_cat, title="疑似家暴")
    resident = intake_services.submit(city.micro, {"category": Category.objects.get(code="env_drain").pk,
                                                   "description": "楼下下水道堵了", "contact_phone": "13912345678",
                                                   "name": "陈女士", "client_key": "output-1"}).ticket.case
    debated = make_case(title="停车纠纷", cat=Category.objects.get(code="dispute_parking"))
    deliberation.raise_topic(city.secretary, {"title": "停车议题", "case": debated, "level": "grid",
                                              "grid": city.grid})
    return [reported, nowhere, whistled, extended, escalated, closed, first, dup, sensitive, resident, debated]


@pytest.mark.parametrize("persona", ["secretary", "worker", "dispatcher"])
def test_one_case_reads_as_drf_reads_it(city, cases, persona):
    view = _view(getattr(city, persona))
    context = view.get_serializer_context()
    shown = 0
    for case in cases:
        case = view.fetch(case.pk)
        if case is None:  # outside this persona's scope
            continue
        view.present(case)  # reads what a detail shows beyond the statement (elsewhere than PostgreSQL)
        _same(CaseSerializer(case, context=context).data, _generic(CaseSerializer, case, context))
        shown += 1
    assert shown >= 8


def test_the_cases_show_what_they_were_built_for(city, cases):
    view = _view(city.secretary)
    got = {c.title: CaseSerializer(view.fetch(c.pk), context=view.get_serializer_context()).data for c in cases}
    assert got["新报"]["location"] == {"lat": 31.2304, "lng": 121.4737} and got["没有位置"]["location"] is None
    assert got["吹哨"]["departments"][0]["score"] == 4 and got["吹哨"]["departments"][0]["replied_at"]
    assert got["延期"]["has_pending_extension"] is True and got["新报"]["has_pending_extension"] is False
    assert got["办结"]["rating"] == "satisfied" and got["办结"]["rated_at"]
    assert got["同一处"]["duplicates"][0]["title"] == "同一处下水道"
    assert got["同一处下水道"]["merged_into"] == next(c.pk for c in cases if c.title == "同一处")
    assert got["疑似家暴"]["sensitive"] is True
    resident = got[cases[9].title]
    assert resident["source"] == "resident" and resident["contact_phone_masked"].startswith("139")
    assert "13912345678" not in str(resident)
    assert got["停车纠纷"]["deliberation"]["raised"]
    assert len(got["上报"]["hops"]) == 2 and got["上报"]["created_at"].endswith("+08:00")


def test_a_page_of_cases_reads_as_drf_reads_each(city, cases):
    view = _view(city.secretary)
    context = view.get_serializer_context()
    rows = sorted(view.rows_of([c.pk for c in cases]), key=lambda c: -c.pk)
    fast = CaseSerializer(rows, many=True, context=context).data
    assert len(fast) == len(cases)
    for got, case in zip(fast, rows, strict=True):
        _same(got, _generic(CaseSerializer, case, context))
        assert got["hops"] is None and got["duplicates"] is None  # on one case only


def test_dates_follow_the_active_time_zone_as_drf_does(city, cases):
    view = _view(city.secretary)
    context = view.get_serializer_context()
    case = view.fetch(cases[5].pk)
    with timezone.override("UTC"):
        fast = CaseSerializer(case, context=context).data
        _same(fast, _generic(CaseSerializer, case, context))
    assert fast["closed_at"].endswith("Z")


def test_a_field_added_to_the_serializer_is_shown_as_drf_shows_it(city, cases):
    """Whatever kind of field a subclass adds (a model field, a method field, a field of a kind read per
    serializer, a dotted source whose middle is missing) comes out as DRF's generic loop gives it."""

    class Wider(CaseSerializer):
        upper_title = serializers.SerializerMethodField()
        phone = serializers.CharField(source="assignee.username", read_only=True)
        events = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
        when = serializers.DateTimeField(source="created_at", format="%Y-%m-%d", read_only=True)

        class Meta(CaseSerializer.Meta):
            fields = ["client_key", *CaseSerializer.Meta.fields, "upper_title", "phone", "events", "when"]
            read_only_fields = fields

        def get_upper_title(self, obj) -> str:
            return obj.title.upper()

    view = _view(city.secretary)
    context = view.get_serializer_context()
    for case in cases[:6]:
        case = Case.objects.get(pk=case.pk)
        fast = Wider(case, context=context).data
        _same(fast, _generic(Wider, case, context))
    assert "phone" not in fast or fast["phone"]  # no assignee: the field is left out, as DRF leaves it out
