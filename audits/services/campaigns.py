"""Campaigns: created by planners for their unit or a unit below it."""

import uuid
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied, ValidationError

from audits import dates
from audits.choices import Mode
from audits.models import Campaign, Checklist, Unit, User
from audits.permissions import may_own_campaigns_of
from audits.services.common import acting, create_or_replay


def campaign_create(
    *,
    actor: User,
    title: str,
    mode: str,
    unit: Unit,
    starts_on: date,
    ends_on: date,
    checklist: Checklist,
    campaign_id: uuid.UUID | None = None,
) -> tuple[Campaign, bool]:
    if not may_own_campaigns_of(actor, unit):
        raise PermissionDenied(_("只能为本单位或下级单位创建督查专题。"))
    if mode not in Mode.values:
        raise ValidationError({"mode": [_("无效的方式。")]})
    errors = dates.campaign_problems(starts_on, ends_on, timezone.localdate())
    if errors:
        raise ValidationError(errors)
    fields = {
        "title": title,
        "mode": mode,
        "unit": unit,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "checklist": checklist,
    }
    with acting(actor, "campaign.create"):
        return create_or_replay(
            actor,
            Campaign,
            campaign_id,
            fields,
            lambda: Campaign.objects.create(
                id=campaign_id or uuid.uuid4(), created_by=actor, **fields
            ),
        )
