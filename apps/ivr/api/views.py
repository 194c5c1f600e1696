"""IVR reports for supervisors: thin adapters over the selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ivr.api.serializers import AbandonPointSerializer, AbandonQuerySerializer
from apps.ivr.selectors import ivr_abandon_points
from apps.rbac.permissions import HasModelPermissions


class AbandonPointsView(APIView):
    """Where callers give up: the last node of abandoned IVR paths, per flow."""

    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["ivr.view_ivrpath"]}

    @extend_schema(parameters=[AbandonQuerySerializer], responses=AbandonPointSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = AbandonQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = ivr_abandon_points(
            actor=request.user,
            flow_id=query.validated_data.get("flow"),
            since=query.validated_data.get("since"),
            until=query.validated_data.get("until"),
        )
        return Response({"results": AbandonPointSerializer(rows, many=True).data})
