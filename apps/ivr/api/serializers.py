from rest_framework import serializers


class AbandonQuerySerializer(serializers.Serializer):
    flow = serializers.IntegerField(required=False, min_value=1)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class AbandonPointSerializer(serializers.Serializer):
    flow_id = serializers.IntegerField(allow_null=True)
    flow = serializers.CharField()
    node = serializers.CharField()
    abandoned = serializers.IntegerField()
    calls = serializers.IntegerField()
    share = serializers.FloatField()
