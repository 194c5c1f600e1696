from rest_framework import generics, serializers

from apps.audit.models import AccessLog
from apps.rbac.permissions import HasModelPermissions


class AccessLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessLog
        fields = [
            "id",
            "created_at",
            "actor_username",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "field",
            "remote_addr",
            "detail",
        ]


class AccessLogListView(generics.ListAPIView):
    """The sensitive-read log, for administrators (and auditors given audit.view_accesslog)."""

    serializer_class = AccessLogSerializer
    permission_classes = [HasModelPermissions]
    required_permissions = {"get": ["audit.view_accesslog"]}
    filterset_fields = ["action", "target_type", "target_id", "actor_username"]
    queryset = AccessLog.objects.all()
