"""Thin adapters: one access check or scoped selector, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.rbac.permissions import HasModelPermissions
from apps.telephony.access import access_call_by_id
from apps.telephony.api.serializers import CallDetailSerializer, CallSerializer
from apps.telephony.selectors import call_list_visible


class CallListView(generics.ListAPIView):
    """Calls the user may see, newest first."""

    serializer_class = CallSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["telephony.view_call"]}
    filterset_fields = ["state", "direction", "queue_slug", "did"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return call_list_visible(actor=self.request.user)


class CallDetailView(APIView):
    """One call with its legs, CDRs and recordings."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["telephony.view_call"]}

    @extend_schema(responses=CallDetailSerializer)
    def get(self, request: Request, call_id: int) -> Response:
        return Response(CallDetailSerializer(access_call_by_id(request.user, call_id)).data)
