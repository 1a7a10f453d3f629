"""Checklists: the standards inspectors check, item by item (检查项)."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.models.base import Synced


class Checklist(Synced):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(_("标题"), max_length=200, unique=True)
    owner_unit = models.ForeignKey(
        "audits.Unit", on_delete=models.PROTECT, related_name="checklists"
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("检查清单")
        verbose_name_plural = _("检查清单")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ChecklistItem(Synced):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("编号"), max_length=20)
    category = models.CharField(_("类别"), max_length=50)
    text = models.TextField(_("标准"))
    threshold = models.DecimalField(
        _("阈值"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    unit_of_measure = models.CharField(_("计量单位"), max_length=20, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("检查项")
        verbose_name_plural = _("检查项")
        ordering = ["checklist", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "code"], name="checklist_item_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"
