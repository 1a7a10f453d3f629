"""Shapes of campaigns, teams, visits, findings and checklists (CONTRACT.md)."""

from rest_framework import serializers as s

from audits.api.fields import Day, Moment
from audits.api.util import ClientId
from audits.choices import FindingStatus, Level, Mode, Severity, VisitStatus
from audits.models import Campaign, Checklist, ChecklistItem, Finding, Team, Visit


class ChecklistItemOut(s.ModelSerializer):
    threshold = s.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, allow_null=True
    )

    class Meta:
        model = ChecklistItem
        fields = ["id", "code", "text", "category", "threshold", "unit_of_measure"]


class ChecklistOut(s.ModelSerializer):
    items = ChecklistItemOut(many=True)

    class Meta:
        model = Checklist
        fields = ["id", "title", "items", "version"]


class TeamIn(s.Serializer):
    id = ClientId(required=False)
    name = s.CharField(max_length=100)
    lead = s.IntegerField()
    members = s.ListField(child=s.IntegerField(), max_length=50, default=list)


class TeamOut(s.ModelSerializer):
    lead = s.IntegerField(source="lead_id")
    members = s.SerializerMethodField()
    owner_unit = s.UUIDField(source="owner_unit_id")

    class Meta:
        model = Team
        fields = ["id", "name", "lead", "members", "owner_unit", "version"]

    def get_members(self, team: Team) -> list[int]:
        return sorted(m.pk for m in team.members.all())


class CampaignIn(s.Serializer):
    id = ClientId(required=False)
    title = s.CharField(max_length=200)
    mode = s.ChoiceField(choices=Mode.choices)
    unit = s.UUIDField()
    starts_on = Day()
    ends_on = Day()
    checklist = s.UUIDField()


class CampaignOut(s.ModelSerializer):
    unit = s.UUIDField(source="unit_id")
    checklist = s.UUIDField(source="checklist_id")

    class Meta:
        model = Campaign
        fields = ["id", "title", "mode", "unit", "starts_on", "ends_on", "checklist", "version"]


class DrawIn(s.Serializer):
    frame_unit = s.UUIDField()
    level = s.ChoiceField(choices=Level.choices)
    size = s.IntegerField(min_value=1, max_value=500)
    seed = s.CharField(min_length=8, max_length=128, required=False, trim_whitespace=False)
    teams = s.ListField(child=s.UUIDField(), required=False, max_length=50)


class CheckinOut(s.Serializer):
    lat = s.FloatField(source="checkin_lat")
    lon = s.FloatField(source="checkin_lon")
    accuracy_m = s.FloatField(source="checkin_accuracy_m", allow_null=True)


class VisitOut(s.ModelSerializer):
    campaign = s.UUIDField(source="campaign_id")
    target = s.UUIDField(source="target_id")
    team = s.UUIDField(source="team_id")
    checkin = s.SerializerMethodField()
    flags = s.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "campaign",
            "target",
            "team",
            "window_start",
            "window_end",
            "status",
            "drawn",
            "checked_in_at",
            "checkin",
            "checkin_distance_m",
            "flags",
            "version",
        ]

    def get_checkin(self, visit: Visit) -> dict | None:
        return None if visit.checkin_lat is None else CheckinOut(visit).data

    def get_flags(self, visit: Visit) -> list[str]:
        return ["far_from_target"] if visit.checkin_far else []


class VisitIn(s.Serializer):
    id = ClientId(required=False)
    campaign = s.UUIDField()
    target = s.UUIDField()
    team = s.UUIDField()
    window_start = Moment(required=False)
    window_end = Moment(required=False)


class VisitPatch(s.Serializer):
    team = s.UUIDField(required=False)
    window_start = Moment(required=False)
    window_end = Moment(required=False)


class CheckinIn(s.Serializer):
    lat = s.FloatField(min_value=-90, max_value=90)
    lon = s.FloatField(min_value=-180, max_value=180)
    accuracy_m = s.FloatField(min_value=0, max_value=100_000, required=False, allow_null=True)
    at = Moment()


class FindingIn(s.Serializer):
    id = ClientId()
    visit = s.UUIDField()
    checklist_item = s.UUIDField()
    severity = s.ChoiceField(choices=Severity.choices)
    title = s.CharField(max_length=200)
    description = s.CharField(allow_blank=True, default="", max_length=10_000)
    measured_value = s.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    responsible_unit = s.UUIDField(required=False, allow_null=True)
    responsible_officials = s.ListField(child=s.UUIDField(), default=list, max_length=20)
    observed_at = Moment()


class FindingPatch(s.Serializer):
    checklist_item = s.UUIDField(required=False)
    severity = s.ChoiceField(choices=Severity.choices, required=False)
    title = s.CharField(max_length=200, required=False)
    description = s.CharField(allow_blank=True, max_length=10_000, required=False)
    measured_value = s.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    responsible_unit = s.UUIDField(required=False)
    responsible_officials = s.ListField(child=s.UUIDField(), max_length=20, required=False)
    observed_at = Moment(required=False)


class FindingOut(s.ModelSerializer):
    visit = s.UUIDField(source="visit_id")
    campaign = s.UUIDField(source="visit.campaign_id")
    checklist_item = s.UUIDField(source="checklist_item_id")
    checklist_code = s.CharField(source="checklist_item.code")
    category = s.CharField(source="checklist_item.category")
    measured_value = s.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, allow_null=True
    )
    responsible_unit = s.UUIDField(source="responsible_unit_id")
    responsible_officials = s.SerializerMethodField()
    photos = s.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "visit",
            "campaign",
            "checklist_item",
            "checklist_code",
            "category",
            "severity",
            "title",
            "description",
            "measured_value",
            "responsible_unit",
            "responsible_officials",
            "observed_at",
            "status",
            "rectify_by",
            "published_at",
            "photos",
            "version",
        ]

    # Lists and the sync feed read the ids from the row (selectors.with_related_ids);
    # a single finding just written is answered with one query each.

    def get_responsible_officials(self, finding: Finding) -> list[str]:
        ids = getattr(finding, "official_ids", None)
        if ids is None:
            ids = finding.responsible_officials.values_list("pk", flat=True)
        return sorted(str(pk) for pk in ids)

    def get_photos(self, finding: Finding) -> list[str]:
        ids = getattr(finding, "photo_ids", None)
        if ids is None:
            ids = finding.photos.order_by("created_at", "id").values_list("pk", flat=True)
        return [str(pk) for pk in ids]


class PublishIn(s.Serializer):
    rectify_by = Day()


class RectificationIn(s.Serializer):
    report = s.CharField(max_length=20_000)
    photos = s.ListField(child=s.UUIDField(), default=list, max_length=30)


class VerifyIn(s.Serializer):
    accepted = s.BooleanField()
    comment = s.CharField(allow_blank=True, default="", max_length=10_000)
    rectify_by = Day(required=False, allow_null=True)


class VisitFilter(s.Serializer):
    status = s.ChoiceField(choices=VisitStatus.choices, required=False)
    campaign = s.UUIDField(required=False)
    team = s.UUIDField(required=False)


class FindingFilter(s.Serializer):
    visit = s.UUIDField(required=False)
    campaign = s.UUIDField(required=False)
    unit = s.UUIDField(required=False)
    status = s.ChoiceField(choices=FindingStatus.choices, required=False)
    severity = s.ChoiceField(choices=Severity.choices, required=False)
    overdue = s.BooleanField(required=False, default=False)
    q = s.CharField(required=False, max_length=100)


class CampaignFilter(s.Serializer):
    mode = s.ChoiceField(choices=Mode.choices, required=False)


class StatsParams(s.Serializer):
    unit = s.UUIDField(required=False)

    def get_fields(self):
        # The contract's names are Python keywords.
        fields = super().get_fields()
        fields["from"] = Day(required=False)
        fields["to"] = Day(required=False)
        return fields


class DrawOut(s.Serializer):
    commitment = s.CharField()
    size = s.IntegerField()
    skipped = s.ListField(child=s.DictField())
    visits = VisitOut(many=True)


class DrawTarget(s.Serializer):
    id = s.UUIDField()
    code = s.CharField()
    name = s.CharField()


class DrawRevealOut(s.Serializer):
    seed = s.CharField()
    commitment = s.CharField()
    algorithm = s.CharField()
    frame_unit = s.UUIDField()
    frame_unit_code = s.CharField()
    level = s.CharField()
    size = s.IntegerField()
    targets = DrawTarget(many=True)
    skipped = s.ListField(child=s.DictField())
    frame = s.ListField(child=s.CharField())
    drawn_at = s.DateTimeField()


class FindingCounts(s.Serializer):
    total = s.IntegerField()
    by_severity = s.DictField(child=s.IntegerField())
    by_category = s.DictField(child=s.IntegerField())
    by_unit = s.DictField(child=s.IntegerField())


class RectificationCounts(s.Serializer):
    verified = s.IntegerField()
    on_time = s.IntegerField()
    overdue = s.IntegerField()


class StatsOut(s.Serializer):
    visits_done = s.IntegerField()
    units_covered = s.IntegerField()
    findings = FindingCounts()
    interviews_held = s.IntegerField()
    officials_interviewed = s.IntegerField()
    bulletins_issued = s.IntegerField()
    reassignments_effective = s.IntegerField()
    rectification = RectificationCounts()
