"""Campaigns, their random draws, visits, findings, rectifications and notifications."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audits.choices import FindingStatus, Level, Mode, Severity, VisitStatus
from audits.models.base import Synced


class Campaign(Synced):
    """A theme of inspections (督查专题) owned by a unit, in a date window, with a checklist."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    title = models.CharField(_("标题"), max_length=200)
    mode = models.CharField(_("方式"), max_length=16, choices=Mode.choices)
    unit = models.ForeignKey("audits.Unit", on_delete=models.PROTECT, related_name="campaigns")
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    checklist = models.ForeignKey(
        "audits.Checklist", on_delete=models.PROTECT, related_name="campaigns"
    )
    created_by = models.ForeignKey(
        "audits.User", on_delete=models.PROTECT, related_name="+", null=True
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("督查专题")
        verbose_name_plural = _("督查专题")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_window"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def secret(self) -> bool:
        return self.mode == Mode.UNANNOUNCED


class Draw(models.Model):
    """The random draw of a campaign's targets: seed committed before, revealed after."""

    campaign = models.OneToOneField(Campaign, on_delete=models.PROTECT, related_name="draw")
    seed = models.CharField(max_length=128)
    commitment = models.CharField(max_length=64)
    algorithm = models.CharField(max_length=32, default="sha256-rank-v1")
    frame_unit = models.ForeignKey("audits.Unit", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=16, choices=Level.choices)
    size = models.PositiveIntegerField()
    targets = ArrayField(models.UUIDField(), default=list)
    skipped = models.JSONField(default=list)
    # The codes of the sampling frame, in code order, so the revealed draw can be rerun
    # without database access (docs/DRAW.md).
    frame = ArrayField(models.CharField(max_length=12), default=list)
    drawn_by = models.ForeignKey("audits.User", on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("抽签")
        verbose_name_plural = _("抽签")

    def __str__(self) -> str:
        return f"{self.campaign} · {self.commitment[:12]}"


class Visit(Synced):
    """One team at one target unit inside a window (检查 / 暗访)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="visits")
    target = models.ForeignKey("audits.Unit", on_delete=models.PROTECT, related_name="visits")
    team = models.ForeignKey("audits.Team", on_delete=models.PROTECT, related_name="visits")
    window_start = models.DateTimeField(_("窗口开始"))
    window_end = models.DateTimeField(_("窗口结束"))
    status = models.CharField(
        _("状态"), max_length=16, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    drawn = models.BooleanField(_("随机抽取"), default=False)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checkin_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    checkin_lon = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    checkin_accuracy_m = models.FloatField(null=True, blank=True)
    checkin_distance_m = models.FloatField(null=True, blank=True)
    checkin_far = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("检查")
        verbose_name_plural = _("检查")
        ordering = ["window_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "target"],
                condition=~Q(status=VisitStatus.CANCELLED),
                name="visit_target_once_per_campaign",
            ),
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")), name="visit_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.target}"


class Finding(Synced):
    """A problem recorded during a visit against a checklist item (发现问题)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="findings")
    checklist_item = models.ForeignKey(
        "audits.ChecklistItem", on_delete=models.PROTECT, related_name="findings"
    )
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("描述"), blank=True)
    measured_value = models.DecimalField(
        _("实测值"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    responsible_unit = models.ForeignKey(
        "audits.Unit", on_delete=models.PROTECT, related_name="findings"
    )
    responsible_officials = models.ManyToManyField(
        "audits.Official", related_name="findings", blank=True
    )
    observed_at = models.DateTimeField(_("发现时间"))
    status = models.CharField(
        _("状态"), max_length=24, choices=FindingStatus.choices, default=FindingStatus.DRAFT
    )
    rectify_by = models.DateField(_("整改期限"), null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("audits.User", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("发现问题")
        verbose_name_plural = _("发现问题")
        ordering = ["observed_at", "id"]
        indexes = [models.Index(fields=["status", "rectify_by"])]

    def __str__(self) -> str:
        return self.title


class Rectification(models.Model):
    """A unit's report that a published finding is fixed (整改), and the planners' verdict."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="rectifications")
    report = models.TextField(_("整改报告"))
    photo_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    submitted_by = models.ForeignKey("audits.User", on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    accepted = models.BooleanField(null=True)
    comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        "audits.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("整改")
        verbose_name_plural = _("整改")
        ordering = ["submitted_at", "id"]

    def __str__(self) -> str:
        return f"{self.finding} · {self.submitted_at:%Y-%m-%d}"


class Notification(Synced):
    """Something a user is told (a finding published to their unit, a rectification returned)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    recipient = models.ForeignKey(
        "audits.User", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32)
    text = models.CharField(max_length=300)
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, null=True, blank=True)
    # What it is about, when that is not a finding (an interview, a bulletin …).
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # "Once per state change": a second notice with the same key to the same person is not
    # written, however often a tracker runs (empty: no such rule).
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_once_per_key",
            )
        ]
        indexes = [models.Index(fields=["recipient", "created_at"])]

    def __str__(self) -> str:
        return self.text


class SyncRemoval(models.Model):
    """An object that left a user's view: `GET /sync` reports it in `removed`."""

    user = models.ForeignKey("audits.User", on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=16)
    object_id = models.UUIDField()
    sync_xid = models.BigIntegerField(default=0, editable=False)

    class Meta:
        indexes = [models.Index(fields=["user", "sync_xid"])]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.object_type} {self.object_id}"


class SyncReset(models.Model):
    """A user's view widened in a way row changes do not show (joined a team): resend all."""

    user = models.ForeignKey("audits.User", on_delete=models.CASCADE, related_name="+")
    sync_xid = models.BigIntegerField(default=0, editable=False)

    class Meta:
        indexes = [models.Index(fields=["user", "sync_xid"])]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.sync_xid}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an `Idempotency-Key`, replayed to its repeats."""

    user = models.ForeignKey("audits.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.BinaryField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
