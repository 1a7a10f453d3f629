"""Enumerations of the domain, with their Chinese labels (DOMAIN.md, glossary)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    CITY = "city", _("市")
    COUNTY = "county", _("县/区")
    ZONE = "zone", _("开发区/园区")
    TOWNSHIP = "township", _("乡镇/街道")
    VILLAGE = "village", _("村")
    COMMUNITY = "community", _("社区")


class Role(models.TextChoices):
    INSPECTOR = "inspector", _("暗访组成员")
    TEAM_LEAD = "team_lead", _("暗访组组长")
    PLANNER = "planner", _("组织部门")
    LEADER = "leader", _("领导")
    UNIT_OFFICIAL = "unit_official", _("单位负责人")
    AUDITOR = "auditor", _("审计员")


class Title(models.TextChoices):
    PARTY_SECRETARY = "party_secretary", _("党组织书记")
    DEPUTY_SECRETARY = "deputy_secretary", _("副书记")
    ORG_COMMITTEE_MEMBER = "org_committee_member", _("组织委员")
    ORG_CLERK = "org_clerk", _("组织干事")
    FIRST_SECRETARY = "first_secretary", _("第一书记")
    ORG_DEPARTMENT_HEAD = "org_department_head", _("组织部长")
    VILLAGE_COMMITTEE_HEAD = "village_committee_head", _("村(居)委会主任")


class Mode(models.TextChoices):
    UNANNOUNCED = "unannounced", _("暗访")
    ANNOUNCED = "announced", _("明察")


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("计划")
    IN_PROGRESS = "in_progress", _("进行中")
    SUBMITTED = "submitted", _("已提交")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class Severity(models.TextChoices):
    MINOR = "minor", _("一般")
    MAJOR = "major", _("较重")
    SERIOUS = "serious", _("严重")


class FindingStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已驳回")
    PUBLISHED = "published", _("已通报")
    RECTIFICATION_SUBMITTED = "rectification_submitted", _("整改已报")
    VERIFIED = "verified", _("整改已验收")
    RETURNED = "returned", _("整改退回")


# Once published, a finding is known to the inspected unit and its chain.
PUBLISHED_STATES = (
    FindingStatus.PUBLISHED,
    FindingStatus.RECTIFICATION_SUBMITTED,
    FindingStatus.VERIFIED,
    FindingStatus.RETURNED,
)
