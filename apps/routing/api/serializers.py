from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.routing.models import AgentPresence, AgentState, NotReadyReason, Queue, WaitingCall


class AgentStateSerializer(serializers.ModelSerializer):
    agent_id = serializers.IntegerField(source="agent.id", read_only=True)
    extension = serializers.CharField(source="agent.extension", read_only=True)
    name = serializers.CharField(source="agent.user.__str__", read_only=True)
    team = serializers.CharField(source="agent.team.name", read_only=True, default=None)
    since = serializers.DateTimeField(source="state_since", read_only=True)

    class Meta:
        model = AgentPresence
        fields = [
            "agent_id",
            "extension",
            "name",
            "team",
            "state",
            "reason",
            "since",
            "idle_since",
            "wrap_up_until",
            "calls_handled",
            "missed_calls",
        ]
        read_only_fields = fields


class AgentStateUpdateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[AgentState.AVAILABLE, AgentState.NOT_READY, AgentState.OFFLINE]
    )
    reason = serializers.ChoiceField(
        choices=[NotReadyReason.BREAK, NotReadyReason.LUNCH, NotReadyReason.TRAINING],
        required=False,
        allow_blank=True,
        default="",
    )


class QueueSerializer(serializers.ModelSerializer):
    teams = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Queue
        fields = [
            "id",
            "slug",
            "name",
            "is_active",
            "teams",
            "priority",
            "strategy",
            "service_level_percent",
            "service_level_seconds",
            "max_wait_seconds",
            "max_size",
            "ring_timeout_seconds",
            "wrap_up_seconds",
        ]
        read_only_fields = fields


class ServiceLevelTargetSerializer(serializers.Serializer):
    percent = serializers.IntegerField()
    seconds = serializers.IntegerField()


class QueueStatsSerializer(serializers.Serializer):
    waiting = serializers.IntegerField()
    callbacks = serializers.IntegerField()
    ringing = serializers.IntegerField()
    longest_wait_seconds = serializers.IntegerField()
    agents_available = serializers.IntegerField()
    agents_staffed = serializers.IntegerField()
    agents_not_ready = serializers.IntegerField()
    entered_today = serializers.IntegerField()
    answered_today = serializers.IntegerField()
    abandoned_today = serializers.IntegerField()
    short_abandoned_today = serializers.IntegerField()
    overflowed_today = serializers.IntegerField()
    service_level_today = serializers.FloatField(allow_null=True)
    service_level_target = ServiceLevelTargetSerializer()
    average_handle_seconds = serializers.FloatField()
    estimated_wait_seconds = serializers.IntegerField(allow_null=True)


class QueueWithStatsSerializer(QueueSerializer):
    stats = serializers.SerializerMethodField()

    class Meta(QueueSerializer.Meta):
        fields = [*QueueSerializer.Meta.fields, "stats"]
        read_only_fields = fields

    def get_stats(self, queue: Queue) -> dict[str, Any]:
        return self.context["stats"][queue.pk]


class WaitingCallSerializer(serializers.ModelSerializer):
    offered_agent = serializers.CharField(source="offered_agent.extension", default=None)

    class Meta:
        model = WaitingCall
        fields = [
            "id",
            "call_uuid",
            "state",
            "caller_number",
            "customer_ref",
            "priority",
            "tier",
            "language",
            "enqueued_at",
            "offered_agent",
            "offer_count",
            "is_callback",
            "position",
            "ewt_seconds",
        ]
        read_only_fields = fields


class ErlangCQuerySerializer(serializers.Serializer):
    calls_per_hour = serializers.FloatField(min_value=0)
    aht_seconds = serializers.FloatField(min_value=1)
    target_percent = serializers.FloatField(min_value=1, max_value=99)
    target_seconds = serializers.FloatField(min_value=0)


class StaffingQuerySerializer(serializers.Serializer):
    calls_per_hour = serializers.FloatField(min_value=0, required=False)
    aht_seconds = serializers.FloatField(min_value=1, required=False)


class StaffingResultSerializer(serializers.Serializer):
    agents = serializers.IntegerField()
    traffic_erlangs = serializers.FloatField()
    probability_of_waiting = serializers.FloatField()
    service_level = serializers.FloatField()
    average_speed_of_answer_seconds = serializers.FloatField()
    occupancy = serializers.FloatField()


class QueueStaffingSerializer(serializers.Serializer):
    calls_per_hour = serializers.FloatField()
    aht_seconds = serializers.FloatField()
    target_percent = serializers.IntegerField()
    target_seconds = serializers.IntegerField()
    staffing = StaffingResultSerializer()
    agents_staffed_now = serializers.IntegerField()
