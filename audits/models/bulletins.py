"""Bulletins (督查通报): compiled drafts, issued numbered documents, and who received them.

A bulletin is compiled by a worker from what its requesting planner may see, into a
snapshot of plain data (`content`) and the files rendered from it (PDF and DOCX, in the
storage, never public). Issuing numbers it (第N期 per issuing unit and year, from
`BulletinCounter`), renders it once more with the number and the audit trail's signed head,
and freezes the PDF's SHA-256. From then on the database refuses any change to the row
(migration 0011: only the DOCX, rendered after the PDF, is filled in once) and to its list
of recipients but their delivery and acknowledgement.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BulletinStatus(models.TextChoices):
    COMPILING = "compiling", _("生成中")
    DRAFT = "draft", _("草稿")
    FAILED = "failed", _("生成失败")
    ISSUED = "issued", _("已印发")


class Bulletin(models.Model):
    """One bulletin: the period and units it covers, who issues it, and where it stands."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    # 发文机关: the organisation department of this unit issues it and numbers it.
    issuer = models.ForeignKey("audits.Unit", on_delete=models.PROTECT, related_name="+")
    # The units reported on: this one and everything below it.
    unit = models.ForeignKey("audits.Unit", on_delete=models.PROTECT, related_name="bulletins")
    campaign = models.ForeignKey(
        "audits.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    title = models.CharField(_("标题"), max_length=200)
    requirements = models.TextField(_("工作要求"), blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=BulletinStatus.choices, default=BulletinStatus.COMPILING
    )
    # While compiling: what the worker is doing and how far it is (0-100).
    stage = models.CharField(max_length=32, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # Each compile is an attempt; only the latest may finish (a duplicate task, or one that
    # an edit overtook, drops its work).
    attempts = models.PositiveIntegerField(default=0)
    # The compiled figures, cases and lists (plain data); null: select them again.
    content = models.JSONField(null=True, blank=True)
    compiled_at = models.DateTimeField(null=True, blank=True)
    pdf = models.CharField(max_length=255, blank=True)  # storage names
    docx = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)  # of the PDF; frozen once issued
    docx_sha256 = models.CharField(max_length=64, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        "audits.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The audit trail's signed head printed in the issued document.
    head_tree_size = models.BigIntegerField(null=True, blank=True)
    head_root = models.CharField(max_length=64, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    requested_by = models.ForeignKey(
        "audits.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set on the drafts the scheduler makes ("campaign:<id>", "monthly:<code>:<YYYY-MM>"):
    # each is made once, however often the job runs.
    auto_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("督查通报")
        verbose_name_plural = _("督查通报")
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "year", "number"],
                condition=Q(number__isnull=False),
                name="bulletin_number_once",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True, year__isnull=True)
                | Q(number__isnull=False, year__isnull=False, status="issued"),
                name="bulletin_numbered_when_issued",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="bulletin_period"
            ),
        ]
        indexes = [models.Index(fields=["status", "issued_on"])]

    def __str__(self) -> str:
        if self.number is not None:
            return f"{self.year}年第{self.number}期 {self.title}"
        return self.title

    @property
    def issue_label(self) -> str:
        """ "2015年第3期", or "" while it is not issued."""
        return f"{self.year}年第{self.number}期" if self.number is not None else ""


class RecipientKind(models.TextChoices):
    MAIN = "main", _("主送")
    COPY = "copy", _("抄送")


class RecipientSource(models.TextChoices):
    POSITION = "position", _("按职务")
    ROLE = "role", _("按角色")
    ADDED = "added", _("经办人添加")


class BulletinRecipient(models.Model):
    """A person a bulletin is (to be) delivered to, and whether they acknowledged it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="recipients")
    user = models.ForeignKey("audits.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=RecipientKind.choices)
    source = models.CharField(max_length=8, choices=RecipientSource.choices)
    label = models.CharField(max_length=200)  # as the colophon prints them
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通报接收人")
        verbose_name_plural = _("通报接收人")
        ordering = ["kind", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "user"], name="bulletin_recipient_once")
        ]
        indexes = [models.Index(fields=["user", "bulletin"])]

    def __str__(self) -> str:
        return f"{self.bulletin_id} → {self.user_id}"


class BulletinCounter(models.Model):
    """The last number an issuing unit gave in a year: the next issue takes it + 1.

    Issuing increments it in the issuing transaction, which holds the row until it commits:
    a second issue of the same unit and year waits, then takes the next number; a failed
    issue rolls its increment back. No gaps, no duplicates.
    """

    issuer = models.ForeignKey("audits.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year"], name="bulletin_counter_once")
        ]

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.year}: {self.last}"
