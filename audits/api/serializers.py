"""Output and input shapes of the foundation endpoints (CONTRACT.md: auth, organisation)."""

from rest_framework import serializers

from audits.choices import Level, Role
from audits.models import Notification, Official, Position, Team, Unit, User


class TokenIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    device_id = serializers.CharField(max_length=128)


class RefreshIn(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class TokenOut(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class UnitBrief(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "level"]


class UnitOut(serializers.ModelSerializer):
    parent = serializers.UUIDField(source="parent_id", allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "level", "parent", "lat", "lon"]


class TeamBrief(serializers.ModelSerializer):
    lead = serializers.IntegerField(source="lead_id")

    class Meta:
        model = Team
        fields = ["id", "name", "lead"]


class MeOut(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    unit = UnitBrief(allow_null=True)
    teams = TeamBrief(many=True, source="my_teams")

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "roles", "unit", "teams"]


class UserOut(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    unit = serializers.UUIDField(source="unit_id", allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "roles", "unit"]


class PositionOut(serializers.ModelSerializer):
    unit = serializers.UUIDField(source="unit_id")

    class Meta:
        model = Position
        fields = ["id", "unit", "title", "start", "end"]


class OfficialOut(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", allow_null=True)
    positions = PositionOut(many=True)

    class Meta:
        model = Official
        fields = ["id", "name", "user", "positions"]


LEVELS = [choice for choice, _ in Level.choices]


class NotificationOut(serializers.ModelSerializer):
    finding = serializers.UUIDField(source="finding_id", allow_null=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "text",
            "finding",
            "object_type",
            "object_id",
            "created_at",
            "read_at",
        ]
