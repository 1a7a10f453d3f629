"""Shapes of bulletins (CONTRACT.md, "Bulletins"), with additions the contract allows."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s
from rest_framework.reverse import reverse

from audits.api.fields import Day
from audits.models import Bulletin, BulletinRecipient, BulletinStatus
from audits.selectors.bulletins import recipients_of
from audits.services.bulletins import MAX_REQUIREMENTS


class BulletinIn(s.Serializer):
    """POST /bulletins. `unit`, `period_start` and `period_end` are the contract's; with a
    `campaign` they default to the campaign's, with `corrects` to the corrected bulletin's."""

    unit = s.UUIDField(required=False)
    period_start = Day(required=False)
    period_end = Day(required=False)
    campaign = s.UUIDField(required=False, allow_null=True)
    corrects = s.UUIDField(required=False, allow_null=True)
    title = s.CharField(max_length=200, required=False, allow_blank=True)
    requirements = s.CharField(
        max_length=MAX_REQUIREMENTS, required=False, allow_blank=True, trim_whitespace=False
    )


class BulletinPatch(s.Serializer):
    """PATCH /bulletins/{id} (a draft, If-Match): what a planner edits."""

    title = s.CharField(max_length=200, required=False)
    requirements = s.CharField(
        max_length=MAX_REQUIREMENTS, required=False, allow_blank=True, trim_whitespace=False
    )
    added_recipients = s.ListField(child=s.IntegerField(), required=False, max_length=500)


class BulletinFilter(s.Serializer):
    status = s.ChoiceField(choices=BulletinStatus.choices, required=False)
    unit = s.UUIDField(required=False)
    year = s.IntegerField(required=False, min_value=1900, max_value=2999)
    addressed = s.BooleanField(required=False, default=False)


class RecipientOut(s.ModelSerializer):
    user = s.IntegerField(source="user_id")
    display_name = s.CharField(source="user.label")

    class Meta:
        model = BulletinRecipient
        fields = [
            "user",
            "display_name",
            "label",
            "kind",
            "source",
            "delivered_at",
            "acknowledged_at",
            "reminders",
        ]


class Progress(s.Serializer):
    stage = s.CharField()
    percent = s.IntegerField()


class Head(s.Serializer):
    tree_size = s.IntegerField()
    root = s.CharField()


class BulletinOut(s.ModelSerializer):
    """`recipients`: all of them for the bulletin's planners and auditors; a recipient sees
    their own. `error` only on a failed bulletin."""

    unit = s.UUIDField(source="unit_id")
    issuer = s.UUIDField(source="issuer_id")
    campaign = s.UUIDField(source="campaign_id", allow_null=True)
    corrects = s.UUIDField(source="corrects_id", allow_null=True)
    requested_by = s.IntegerField(source="requested_by_id", allow_null=True)
    sha256 = s.SerializerMethodField()
    pdf_url = s.SerializerMethodField()
    docx_url = s.SerializerMethodField()
    progress = s.SerializerMethodField()
    head = s.SerializerMethodField()
    recipients = s.SerializerMethodField()
    automatic = s.SerializerMethodField()
    error = s.CharField(required=False)

    class Meta:
        model = Bulletin
        fields = [
            "id",
            "number",
            "year",
            "title",
            "status",
            "sha256",
            "unit",
            "issuer",
            "campaign",
            "corrects",
            "period_start",
            "period_end",
            "pdf_url",
            "docx_url",
            "recipients",
            "requirements",
            "progress",
            "issued_on",
            "issued_at",
            "head",
            "requested_by",
            "automatic",
            "created_at",
            "version",
            "error",
        ]

    def to_representation(self, bulletin: Bulletin) -> dict:
        data = super().to_representation(bulletin)
        if bulletin.status != BulletinStatus.FAILED:
            data.pop("error")
        return data

    def _url(self, bulletin: Bulletin, kind: str) -> str:
        return reverse(
            f"bulletin-{kind}", kwargs={"pk": bulletin.pk}, request=self.context.get("request")
        )

    @extend_schema_field(s.CharField(allow_null=True))
    def get_sha256(self, bulletin: Bulletin) -> str | None:
        return bulletin.sha256 or None

    @extend_schema_field(s.URLField(allow_null=True))
    def get_pdf_url(self, bulletin: Bulletin) -> str | None:
        return self._url(bulletin, "pdf") if bulletin.pdf else None

    @extend_schema_field(s.URLField(allow_null=True))
    def get_docx_url(self, bulletin: Bulletin) -> str | None:
        return self._url(bulletin, "docx") if bulletin.docx else None

    @extend_schema_field(Progress)
    def get_progress(self, bulletin: Bulletin) -> dict:
        return {"stage": bulletin.stage, "percent": bulletin.percent}

    @extend_schema_field(Head(allow_null=True))
    def get_head(self, bulletin: Bulletin) -> dict | None:
        if bulletin.head_tree_size is None:
            return None
        return {"tree_size": bulletin.head_tree_size, "root": bulletin.head_root}

    @extend_schema_field(RecipientOut(many=True))
    def get_recipients(self, bulletin: Bulletin) -> list[dict]:
        rows = getattr(bulletin, "seen_recipients", None)
        if rows is None:
            rows = recipients_of(self.context["request"].user, bulletin)
        return RecipientOut(rows, many=True).data

    def get_automatic(self, bulletin: Bulletin) -> bool:
        """Made by the scheduler (a campaign's or a month's draft)."""
        return bool(bulletin.auto_key)
