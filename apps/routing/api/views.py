"""Thin adapters: validate, one access check, one service or selector call, serialize."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import InvalidInput
from apps.rbac.permissions import HasModelPermissions
from apps.routing import erlang, selectors, services
from apps.routing.access import (
    access_agent_state,
    access_agent_state_for_change,
    access_own_agent,
    access_queue_by_id,
    access_queue_for_supervision,
)
from apps.routing.api.serializers import (
    AgentStateSerializer,
    AgentStateUpdateSerializer,
    ErlangCQuerySerializer,
    QueueStaffingSerializer,
    QueueStatsSerializer,
    QueueWithStatsSerializer,
    StaffingQuerySerializer,
    StaffingResultSerializer,
    WaitingCallSerializer,
)
from apps.routing.models import Agent


def _state_response(agent: Agent) -> Response:
    presence = services.agent_presence_ensure(agent=agent)
    presence.agent = agent
    return Response(AgentStateSerializer(presence).data)


class _AgentStateBase(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {
        "get": ["routing.view_agentpresence"],
        "put": ["routing.change_agentpresence"],
    }

    def _change(self, request: Request, agent: Agent) -> Response:
        serializer = AgentStateUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.agent_set_state(agent=agent, actor=request.user, **serializer.validated_data)
        return _state_response(agent)


class MyStateView(_AgentStateBase):
    """The signed-in agent's own routing state."""

    @extend_schema(responses=AgentStateSerializer)
    def get(self, request: Request) -> Response:
        return _state_response(access_own_agent(request.user))

    @extend_schema(request=AgentStateUpdateSerializer, responses=AgentStateSerializer)
    def put(self, request: Request) -> Response:
        return self._change(request, access_own_agent(request.user))


class AgentStateView(_AgentStateBase):
    """One agent's routing state: the agent, their team's supervisors and administrators."""

    @extend_schema(responses=AgentStateSerializer)
    def get(self, request: Request, agent_id: int) -> Response:
        return _state_response(access_agent_state(request.user, agent_id))

    @extend_schema(request=AgentStateUpdateSerializer, responses=AgentStateSerializer)
    def put(self, request: Request, agent_id: int) -> Response:
        return self._change(request, access_agent_state_for_change(request.user, agent_id))


class AgentStateListView(generics.ListAPIView):
    """The states of every agent the user may see (the wallboard)."""

    serializer_class = AgentStateSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["routing.view_agentpresence"]}
    filterset_fields = ["state"]
    ordering = "agent_id"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.agent_presence_list_visible(actor=self.request.user)


class QueueListView(APIView):
    """The queues the user may see, with their live statistics."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["routing.view_queue", "routing.view_queue_stats"]}

    @extend_schema(responses=QueueWithStatsSerializer(many=True))
    def get(self, request: Request) -> Response:
        queues = list(
            selectors.queue_list_visible(actor=request.user)
            .prefetch_related("teams")
            .order_by("name")
        )
        now = timezone.now()
        stats = {queue.pk: selectors.queue_stats(queue=queue, now=now) for queue in queues}
        return Response(QueueWithStatsSerializer(queues, many=True, context={"stats": stats}).data)


class QueueDetailView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["routing.view_queue", "routing.view_queue_stats"]}

    @extend_schema(responses=QueueWithStatsSerializer)
    def get(self, request: Request, queue_id: int) -> Response:
        queue = access_queue_by_id(request.user, queue_id)
        stats = {queue.pk: selectors.queue_stats(queue=queue)}
        return Response(QueueWithStatsSerializer(queue, context={"stats": stats}).data)


class QueueStatsView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["routing.view_queue_stats"]}

    @extend_schema(responses=QueueStatsSerializer)
    def get(self, request: Request, queue_id: int) -> Response:
        queue = access_queue_by_id(request.user, queue_id)
        return Response(QueueStatsSerializer(selectors.queue_stats(queue=queue)).data)


class QueueWaitingCallsView(APIView):
    """The calls in a queue's line, best first (supervisors of its teams, QA, admins)."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["routing.view_waitingcall"]}

    @extend_schema(responses=WaitingCallSerializer(many=True))
    def get(self, request: Request, queue_id: int) -> Response:
        queue = access_queue_by_id(request.user, queue_id)
        calls = selectors.waiting_call_list_for_queue(queue=queue).select_related("offered_agent")[
            :500
        ]
        return Response(WaitingCallSerializer(calls, many=True).data)


class QueueStaffingView(APIView):
    """Agents needed for the queue's service-level target (Erlang C)."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["routing.plan_staffing"]}

    @extend_schema(parameters=[StaffingQuerySerializer], responses=QueueStaffingSerializer)
    def get(self, request: Request, queue_id: int) -> Response:
        query = StaffingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queue = access_queue_for_supervision(request.user, queue_id)
        result = selectors.queue_staffing(queue=queue, **query.validated_data)
        return Response(QueueStaffingSerializer(result).data)


class ErlangCView(APIView):
    """The Erlang C calculator: agents needed for a target from arrival rate and handle time."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["routing.plan_staffing"]}

    @extend_schema(parameters=[ErlangCQuerySerializer], responses=StaffingResultSerializer)
    def get(self, request: Request) -> Response:
        query = ErlangCQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            staffing = erlang.agents_required(**query.validated_data)
        except ValueError as error:
            raise InvalidInput(str(error)) from error
        return Response(StaffingResultSerializer(staffing).data)
