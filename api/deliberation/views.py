"""Deliberation (议事): topics at /api/v1/topics/ and their consultations at /api/v1/meetings/.

Thin: every rule is in gridcase.deliberation (rules.py, services.py). Lists are the caller's scope (a topic's
grid, or a building's micro-grids); objects outside it answer 404.
"""

from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gridcase.cases.choices import Status as CaseStatus
from gridcase.core.errors import NotFound, ValidationFailed
from gridcase.deliberation import minutes, rules, services
from gridcase.deliberation.models import Attendee, Consultation, Position, Topic, TopicAction
from gridcase.grids.models import Grid
from gridcase.grids.scoping import scope_for

from ..base import ScopedViewSetMixin
from ..permissions import HasAnyRole
from . import filtersets
from . import serializers as s


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationFailed(code="malformed_request")
    return request.data


def _valid(serializer_class, request, view):
    body = serializer_class(data=_body(request), context=view.get_serializer_context())
    body.is_valid(raise_exception=True)
    return body.validated_data


def topics_with_counts(qs):
    return qs.select_related("grid", "building", "case", "raised_by").annotate(
        actions_total=Count("actions", distinct=True),
        actions_open=Count("actions", filter=~Q(actions__case__status=CaseStatus.CLOSED), distinct=True))


class TopicViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Deliberation topics (议题): raised from a case, a resident's proposal or by staff, at community, grid or
    building level. Actions: `decide`, `actions` (a follow-up action becomes a case), `close`, `publish`
    (the decision as a notice); `stats` counts topics raised, decided and followed through per grid."""

    queryset = Topic.objects.all()
    serializer_class = s.TopicSerializer
    filterset_class = filtersets.TopicFilter
    permission_classes = [HasAnyRole]
    write_roles = rules.SIGN_IN_ROLES
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return topics_with_counts(super().get_queryset())

    def get_serializer_context(self):
        actor = self.request.user
        return super().get_serializer_context() | {"staff": lambda t: services.is_staff(actor, t)}

    def present(self, topic_id, code=status.HTTP_200_OK):
        topic = topics_with_counts(Topic.objects.restrict(self.request.user)).filter(pk=topic_id).prefetch_related(
            Prefetch("actions", TopicAction.objects.select_related("case", "case__assignee").order_by("id"),
                     to_attr="action_rows"),
            Prefetch("consultations", Consultation.objects.order_by("starts_at", "id"), to_attr="meeting_rows"),
        ).first()
        if topic is None:
            raise NotFound()
        return Response(self.get_serializer(topic).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self.present(int(kwargs["pk"]))

    @extend_schema(request=s.TopicCreateSerializer, responses={201: s.TopicSerializer})
    def create(self, request, *args, **kwargs):
        topic = services.raise_topic(request.user, _valid(s.TopicCreateSerializer, request, self))
        return self.present(topic.pk, status.HTTP_201_CREATED)

    @extend_schema(request=s.TopicUpdateSerializer, responses=s.TopicSerializer)
    def partial_update(self, request, *args, **kwargs):
        data = _valid(s.TopicUpdateSerializer, request, self)
        topic = services.update_topic(request.user, kwargs["pk"], data, data.get("version"))
        return self.present(topic.pk)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=s.TopicDecideSerializer, responses=s.TopicSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """The decision, taken at a held (closed) consultation of the topic."""
        data = _valid(s.TopicDecideSerializer, request, self)
        return self.present(services.decide(request.user, pk, data).pk)

    @extend_schema(request=s.TopicActionCreateSerializer, responses={201: s.TopicSerializer})
    @action(detail=True, methods=["post"])
    def actions(self, request, pk=None):
        """A follow-up action of the decision, filed as a case (accepted and assigned when `assignee` is given)."""
        services.add_action(request.user, pk, _valid(s.TopicActionCreateSerializer, request, self))
        return self.present(int(pk), status.HTTP_201_CREATED)

    @extend_schema(request=s.CloseTopicSerializer, responses=s.TopicSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close: a decided topic once every action's case is closed, or a topic withdrawn (with a note)."""
        return self.present(services.close_topic(request.user, pk, _valid(s.CloseTopicSerializer, request, self)).pk)

    @extend_schema(request=s.TopicPublishSerializer, responses=s.TopicSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish the decision as a notice (居务公开) to the topic's grid."""
        data = _valid(s.TopicPublishSerializer, request, self)
        return self.present(services.publish_decision(request.user, pk, data).pk)

    @extend_schema(parameters=[OpenApiParameter("q", str, description="part of a name")],
                   responses=s.InvitableResidentSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def residents(self, request, pk=None):
        """Residents a consultation of this topic may invite (the building's, or the grid's): name and place only."""
        from ..filters import check_query_params

        check_query_params(request, self)
        q = request.query_params.get("q") or ""
        return Response(services.invitable_residents(request.user, pk, q[:60]))

    @extend_schema(parameters=[OpenApiParameter("within", int, description="count inside this grid's subtree")],
                   responses=s.TopicStatsSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def stats(self, request):
        """Topics raised, decided and followed through per grid, for the dashboard (one query)."""
        from ..filters import check_query_params

        check_query_params(request, self)
        within = request.query_params.get("within")
        node = None
        if within:
            if not within.isdigit():
                raise ValidationFailed(fields={"within": [_("Enter a whole number.")]})
            node = Grid.objects.filter(pk=int(within)).first()
            if node is None or not scope_for(request.user).covers(node):
                raise NotFound()
        return Response(services.stats(request.user, node))


class MeetingViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Consultations (议事会) of topics: time, place, invitees and sign-in (idempotent on `sign_in_key`, also
    sent later from an offline phone), positions, options and votes, then `close` with the vote or consensus.
    `minutes` is the printable PDF."""

    queryset = Consultation.objects.all()
    serializer_class = s.MeetingSerializer
    filterset_class = filtersets.MeetingFilter
    permission_classes = [HasAnyRole]
    write_roles = rules.SIGN_IN_ROLES
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return super().get_queryset().select_related("topic").annotate(
            invited=Count("attendees", filter=Q(attendees__invited=True)),
            signed_in=Count("attendees", filter=Q(attendees__signed_in_at__isnull=False)))

    def load(self, meeting_id):
        meeting = self.get_queryset().filter(pk=meeting_id).select_related("topic__grid", "topic__building") \
            .prefetch_related(Prefetch("attendees", Attendee.objects.order_by("-invited", "id"), to_attr="attendee_rows"),
                              Prefetch("positions", Position.objects.order_by("id"), to_attr="position_rows")).first()
        if meeting is None:
            raise NotFound()
        meeting.option_rows = services.tally(meeting)
        return meeting

    def present(self, meeting_id, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.load(meeting_id)).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self.present(int(kwargs["pk"]))

    @extend_schema(request=s.MeetingCreateSerializer, responses={201: s.MeetingSerializer})
    def create(self, request, *args, **kwargs):
        meeting = services.schedule(request.user, _valid(s.MeetingCreateSerializer, request, self))
        return self.present(meeting.pk, status.HTTP_201_CREATED)

    @extend_schema(request=s.MeetingUpdateSerializer, responses=s.MeetingSerializer)
    def partial_update(self, request, *args, **kwargs):
        meeting = services.update_meeting(request.user, kwargs["pk"], _valid(s.MeetingUpdateSerializer, request, self))
        return self.present(meeting.pk)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=s.MeetingInviteSerializer, responses=s.MeetingSerializer)
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        data = _valid(s.MeetingInviteSerializer, request, self)
        services.invite(request.user, pk, data.get("residents") or [], data.get("users") or [])
        return self.present(int(pk))

    @extend_schema(request=s.MeetingSignInSerializer, responses={201: s.MeetingAttendeeSerializer, 200: s.MeetingAttendeeSerializer})
    @action(detail=True, methods=["post"])
    def sign_in(self, request, pk=None):
        """Sign someone in. 201 the first time, 200 for a resend (same `sign_in_key`) or someone already signed
        in; 409 `meeting_closed` after the close (unless `signed_at` is before it), 409 `conflict` for the same
        key used for someone else."""
        result = services.sign_in(request.user, pk, _valid(s.MeetingSignInSerializer, request, self))
        return Response(s.MeetingAttendeeSerializer(result.attendee).data,
                        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(request=s.MeetingPositionSerializer, responses={201: s.MeetingSerializer})
    @action(detail=True, methods=["post"])
    def positions(self, request, pk=None):
        services.add_position(request.user, pk, _valid(s.MeetingPositionSerializer, request, self))
        return self.present(int(pk), status.HTTP_201_CREATED)

    @extend_schema(request=s.MeetingOptionSerializer, responses={201: s.MeetingSerializer})
    @action(detail=True, methods=["post"])
    def options(self, request, pk=None):
        services.add_option(request.user, pk, _valid(s.MeetingOptionSerializer, request, self)["label"])
        return self.present(int(pk), status.HTTP_201_CREATED)

    @extend_schema(request=s.MeetingVoteSerializer, responses={201: s.MeetingSerializer, 200: s.MeetingSerializer})
    @action(detail=True, methods=["post"])
    def vote(self, request, pk=None):
        """One vote per signed-in attendee; the same vote resent answers 200, a different one 409 `already_voted`;
        after the close 409 `meeting_closed`."""
        data = _valid(s.MeetingVoteSerializer, request, self)
        result = services.vote(request.user, pk, data["attendee"], data["option"])
        return self.present(int(pk), status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(request=s.CloseMeetingSerializer, responses=s.MeetingSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        meeting = services.close_meeting(request.user, pk, _valid(s.CloseMeetingSerializer, request, self))
        return self.present(meeting.pk)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def minutes(self, request, pk=None):
        """The minutes (议事会议纪要) as a printable A4 PDF."""
        from ..filters import check_query_params

        check_query_params(request, self)
        meeting = self.load(int(pk))
        actions = list(TopicAction.objects.filter(topic=meeting.topic_id).select_related("case").order_by("id"))
        pdf = minutes.render(meeting, meeting.attendee_rows, meeting.position_rows, meeting.option_rows, actions)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="minutes-{meeting.pk}.pdf"'
        return response
