"""Accounts: users with roles and a home unit, inspection teams, and device sessions."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.choices import Role


class User(AbstractUser):
    """A person who signs in; what they may see follows from `roles` and `unit`."""

    display_name = models.CharField(_("显示名"), max_length=100, blank=True)
    roles = ArrayField(
        models.CharField(max_length=16, choices=Role.choices), default=list, blank=True
    )
    unit = models.ForeignKey(
        "audits.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def label(self) -> str:
        return self.display_name or self.username


class Team(models.Model):
    """An inspection team (暗访组): inspectors with one lead."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("名称"), max_length=100)
    lead = models.ForeignKey(User, on_delete=models.PROTECT, related_name="led_teams")
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    owner_unit = models.ForeignKey("audits.Unit", on_delete=models.PROTECT, related_name="teams")
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("暗访组")
        verbose_name_plural = _("暗访组")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DeviceSession(models.Model):
    """One signed-in device of a user; its refresh token rotates, logout revokes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="device_sessions")
    device_id = models.CharField(max_length=128)
    # The only refresh token of this session that is still good; any other is a replay.
    refresh_jti = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("设备会话")
        verbose_name_plural = _("设备会话")
        indexes = [models.Index(fields=["user", "device_id"])]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.device_id}"
