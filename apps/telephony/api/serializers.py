from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.telephony.models import Call, CallLeg, CallRecording, Cdr


class CallSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node.name", read_only=True)
    queue = serializers.CharField(source="queue_slug", read_only=True)

    class Meta:
        model = Call
        fields = [
            "id",
            "uuid",
            "node",
            "direction",
            "caller_number",
            "caller_name",
            "callee_number",
            "did",
            "state",
            "queue",
            "customer_id",
            "ivr_path_ref",
            "started_at",
            "answered_at",
            "bridged_at",
            "ended_at",
            "hangup_cause",
        ]
        read_only_fields = fields


class CallLegSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallLeg
        # DTMF digits are deliberately absent: in an IVR they may be card numbers.
        fields = [
            "uuid",
            "role",
            "direction",
            "endpoint",
            "agent_id",
            "caller_number",
            "callee_number",
            "state",
            "is_held",
            "bridged_to",
            "started_at",
            "ringing_at",
            "answered_at",
            "bridged_at",
            "ended_at",
            "hangup_cause",
        ]
        read_only_fields = fields


class CdrSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cdr
        fields = [
            "uuid",
            "direction",
            "caller",
            "callee",
            "started_at",
            "answered_at",
            "ended_at",
            "duration",
            "billsec",
            "hangup_cause",
            "hangup_cause_q850",
            "sip_hangup_disposition",
            "recording_path",
            "source",
        ]
        read_only_fields = fields


class CallRecordingSerializer(serializers.ModelSerializer):
    leg_uuid = serializers.CharField(source="leg.uuid", read_only=True)

    class Meta:
        model = CallRecording
        fields = [
            "id",
            "leg_uuid",
            "path",
            "started_at",
            "stopped_at",
            "duration_ms",
            "masked_spans",
        ]
        read_only_fields = fields


class CallDetailSerializer(CallSerializer):
    legs = CallLegSerializer(many=True, read_only=True)
    cdr = serializers.SerializerMethodField()
    cdrs = CdrSerializer(many=True, read_only=True)
    recordings = CallRecordingSerializer(many=True, read_only=True)

    class Meta(CallSerializer.Meta):
        fields = [*CallSerializer.Meta.fields, "legs", "cdr", "cdrs", "recordings"]
        read_only_fields = fields

    def get_cdr(self, call: Call) -> dict[str, Any] | None:
        """The call's own CDR: its A-leg's."""
        for cdr in call.cdrs.all():
            if cdr.uuid == call.uuid:
                return CdrSerializer(cdr).data
        return None
