"""Photo evidence (照片证据), resumable upload sessions, and the transactional outbox."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audits.models.base import Synced


class PhotoStatus(models.TextChoices):
    PENDING = "pending", _("处理中")
    READY = "ready", _("可用")
    REJECTED = "rejected", _("已拒绝")


class PhotoPurpose(models.TextChoices):
    EVIDENCE = "evidence", _("检查证据")  # the inspection team's, during the visit
    RECTIFICATION = "rectification", _("整改证明")  # the responsible unit's, after publication


class Photo(Synced):
    """One picture attached to a finding (and so its visit) or to a visit alone.

    The original is stored once, byte-for-byte, under `originals/ab/cd/<sha256>`; the
    thumbnail and the preview are derived by a worker, with every metadata stripped.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    finding = models.ForeignKey(
        "audits.Finding", on_delete=models.PROTECT, null=True, blank=True, related_name="photos"
    )
    visit = models.ForeignKey("audits.Visit", on_delete=models.PROTECT, related_name="photos")
    uploaded_by = models.ForeignKey("audits.User", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(
        max_length=16, choices=PhotoPurpose.choices, default=PhotoPurpose.EVIDENCE
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=32)
    original = models.CharField(max_length=255)
    thumbnail = models.CharField(max_length=255, blank=True)
    preview = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PhotoStatus.choices, default=PhotoStatus.PENDING
    )
    reason = models.CharField(max_length=200, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    make = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    orientation = models.PositiveSmallIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True)
    # What processing found in the picture itself. `reused` is not among them: it compares
    # with other photos, and is shown at read time only when one of `matches` is visible to
    # the reader (audits.selectors.photos), so it never speaks of evidence they may not see.
    flags = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    # Earlier photos elsewhere showing the same or a near-identical picture (the first ones).
    matches = ArrayField(models.UUIDField(), default=list, blank=True)
    phash = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    # Per reader, not stored: set by audits.selectors.photos before a photo is answered.
    shows_reuse: bool
    names_uploader: bool

    class Meta:
        verbose_name = _("照片证据")
        verbose_name_plural = _("照片证据")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["finding", "created_at"]),
            models.Index(fields=["visit", "created_at"]),
            GinIndex(fields=["matches"], name="photo_matches"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} ({self.status})"


class PhotoUpload(models.Model):
    """A resumable upload session: its bytes grow in a part file until `offset == size`."""

    id = models.UUIDField(primary_key=True)  # the id the photo will have
    owner = models.ForeignKey("audits.User", on_delete=models.CASCADE, related_name="+")
    finding = models.ForeignKey(
        "audits.Finding", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    visit = models.ForeignKey("audits.Visit", on_delete=models.CASCADE, related_name="+")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=255, blank=True)
    offset = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["owner"]), models.Index(fields=["updated_at"])]

    def __str__(self) -> str:
        return f"upload {self.pk} {self.offset}/{self.size}"


class OutboxMessage(models.Model):
    """A task to hand to the broker, written in the transaction of the change that needs it.

    Relayed after commit; marked done by the worker; re-sent by the sweeper when stale.
    """

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    relayed_at = models.DateTimeField(null=True, blank=True)
    sent_count = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(done_at__isnull=True), name="outbox_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.kwargs}"
