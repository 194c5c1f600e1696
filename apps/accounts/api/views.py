"""Thin adapters: validate, one access check, one service call, serialize."""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.access import (
    access_agent_by_id,
    access_agent_credentials,
    access_agent_for_change,
    access_team_by_id,
)
from apps.accounts.api.serializers import (
    AgentSerializer,
    AgentUpdateSerializer,
    MeSerializer,
    PreferencesSerializer,
    SipCredentialsSerializer,
    TeamSerializer,
)
from apps.accounts.selectors import agent_list_visible, team_list_supervised
from apps.rbac.permissions import HasModelPermissions, IsStaffRole


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=PreferencesSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        serializer = PreferencesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_preferences(user=request.user, **serializer.validated_data)
        return Response(MeSerializer(user).data)


class TeamListView(generics.ListAPIView):
    serializer_class = TeamSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["accounts.view_team"]}
    ordering = "name"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return team_list_supervised(actor=self.request.user).prefetch_related("supervisors")


class TeamDetailView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["accounts.view_team"]}

    @extend_schema(responses=TeamSerializer)
    def get(self, request: Request, team_id: int) -> Response:
        return Response(TeamSerializer(access_team_by_id(request.user, team_id)).data)


class AgentListView(generics.ListAPIView):
    serializer_class = AgentSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["accounts.view_agent"]}
    filterset_fields = ["team", "endpoint", "is_active"]
    ordering = "extension"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return agent_list_visible(actor=self.request.user)


class AgentDetailView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {
        "get": ["accounts.view_agent"],
        "patch": ["accounts.change_agent"],
    }

    @extend_schema(responses=AgentSerializer)
    def get(self, request: Request, agent_id: int) -> Response:
        return Response(AgentSerializer(access_agent_by_id(request.user, agent_id)).data)

    @extend_schema(request=AgentUpdateSerializer, responses=AgentSerializer)
    def patch(self, request: Request, agent_id: int) -> Response:
        serializer = AgentUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        agent = access_agent_for_change(request.user, agent_id)
        agent = services.agent_update(agent=agent, **serializer.validated_data)
        return Response(AgentSerializer(agent).data)


class AgentSipCredentialsView(APIView):
    """The agent's own SIP credentials for the browser softphone; every reveal is logged."""

    permission_classes = [IsStaffRole]

    @extend_schema(request=None, responses=SipCredentialsSerializer)
    def post(self, request: Request, agent_id: int) -> Response:
        agent = access_agent_credentials(request.user, agent_id)
        credentials = services.agent_reveal_sip_credentials(
            actor=request.user, agent=agent, request=request
        )
        return Response(
            SipCredentialsSerializer(
                {
                    **credentials,
                    "domain": settings.FREESWITCH_SIP_DOMAIN,
                    "wss_url": settings.FREESWITCH_WSS_URL,
                }
            ).data
        )


class AgentExportView(APIView):
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["accounts.export_agents"]}

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request) -> HttpResponse:
        content = services.agents_export_csv(
            actor=request.user, agents=agent_list_visible(actor=request.user), request=request
        )
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="agents.csv"'
        return response
