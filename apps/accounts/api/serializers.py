from django.conf import settings
from rest_framework import serializers

from apps.accounts.models import Agent, Team, User


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "language", "timezone", "roles"]
        read_only_fields = ["id", "username", "email", "roles"]

    def get_roles(self, user: User) -> list[str]:
        return sorted(user.groups.values_list("name", flat=True))


class PreferencesSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=[code for code, _ in settings.LANGUAGES], required=False
    )
    timezone = serializers.CharField(max_length=64, required=False)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)

    def validate_timezone(self, value: str) -> str:
        import zoneinfo

        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError("Unknown time zone.")
        return value


class TeamSerializer(serializers.ModelSerializer):
    supervisors = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    agent_count = serializers.IntegerField(source="agents.count", read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "supervisors", "agent_count"]


class AgentSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.__str__", read_only=True)
    team = serializers.CharField(source="team.name", read_only=True, default=None)

    class Meta:
        model = Agent
        fields = ["id", "username", "name", "extension", "team", "endpoint", "is_active"]
        read_only_fields = ["id", "username", "name", "extension", "team"]


class AgentUpdateSerializer(serializers.Serializer):
    endpoint = serializers.ChoiceField(choices=Agent.Endpoint.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class SipCredentialsSerializer(serializers.Serializer):
    extension = serializers.CharField()
    password = serializers.CharField()
    domain = serializers.CharField()
    wss_url = serializers.CharField()
