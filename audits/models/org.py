"""The organisation tree: units, officials and the positions that join them over time."""

import uuid
from datetime import date

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audits.choices import Level, Title
from audits.models.base import Synced


class Unit(Synced):
    """A node of the administrative tree (组织单位)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Materialised path of codes ("341300/341322/341322101/"): a subtree is one indexed
    # prefix match, which is what every jurisdiction check needs.
    path = models.CharField(max_length=200, editable=False, unique=True)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lon = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["level", "path"]),
            models.Index(
                fields=["path"], name="unit_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90) | Q(lat__isnull=True), name="unit_lat"
            ),
            models.CheckConstraint(
                condition=Q(lon__gte=-180, lon__lte=180) | Q(lon__isnull=True), name="unit_lon"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        parent_path = self.parent.path if self.parent_id else ""
        self.path = f"{parent_path}{self.code}/"
        self.depth = self.path.count("/") - 1
        super().save(*args, **kwargs)

    def contains(self, other: "Unit") -> bool:
        """Whether `other` is this unit or lies below it."""
        return other.path.startswith(self.path)


class Official(models.Model):
    """A person who holds positions (干部); may or may not have a user account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("姓名"), max_length=50)
    user = models.OneToOneField(
        "audits.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="official"
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("干部")
        verbose_name_plural = _("干部")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class PositionQuerySet(models.QuerySet):
    def held_on(self, on: date) -> "PositionQuerySet":
        """Positions that were held on the given day."""
        return self.filter(start__lte=on).filter(Q(end__isnull=True) | Q(end__gte=on))


class Position(models.Model):
    """An official's title at a unit from `start` to `end` (inclusive; open while null)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    official = models.ForeignKey(Official, on_delete=models.PROTECT, related_name="positions")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="positions")
    title = models.CharField(_("职务"), max_length=32, choices=Title.choices)
    start = models.DateField(_("任职日期"))
    end = models.DateField(_("离任日期"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PositionQuerySet.as_manager()

    class Meta:
        verbose_name = _("职务")
        verbose_name_plural = _("职务")
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["unit", "title", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="position_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.official} · {self.get_title_display()} · {self.unit.name}"
